"""One contract for the Lock port, run against memory, a lock directory and Redis."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from attrs import frozen

from logistic.adapters.clock import FixedClock, SystemClock
from logistic.adapters.file_lock import FileLock
from logistic.adapters.memory_store import MemoryLock
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_lock import RedisLock
from logistic.domain.errors import InvalidInput, StorageUnavailable
from logistic.ports.lock import Lock, LockToken
from tests.services import free_port

NAME = "report-2026-11-25T0800"
TTL = timedelta(milliseconds=300)
LONG = timedelta(minutes=5)


@frozen
class LockUnderTest:
    lock: Lock
    peer: Lock  # another process's view of the same back end
    let_time_pass: Callable[[timedelta], None]


def _sleep(delta: timedelta) -> None:
    time.sleep(delta.total_seconds())


@pytest.fixture(
    params=[
        "memory",
        "file",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LockUnderTest]:
    if request.param in ("memory", "file"):
        clock = FixedClock(datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
        if request.param == "memory":
            lock = MemoryLock(clock)
            yield LockUnderTest(lock, lock, clock.advance)
        else:
            yield LockUnderTest(FileLock(tmp_path, clock), FileLock(tmp_path, clock), clock.advance)
        return
    cluster = request.param == "redis-cluster"
    url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    prefix: str = request.getfixturevalue("redis_cluster_prefix" if cluster else "redis_prefix")
    client, other = redis_client(url, timeout_seconds=1), redis_client(url, timeout_seconds=1)
    yield LockUnderTest(RedisLock(client, prefix), RedisLock(other, prefix), _sleep)
    client.close()
    other.close()


def test_the_first_caller_gets_the_lock_and_the_second_gets_none(subject: LockUnderTest) -> None:
    token = subject.lock.acquire(NAME, LONG)

    assert token is not None
    assert token.name == NAME
    assert subject.peer.acquire(NAME, LONG) is None
    assert subject.lock.acquire(NAME, LONG) is None


def test_names_are_locked_independently(subject: LockUnderTest) -> None:
    assert subject.lock.acquire(NAME, LONG) is not None

    assert subject.peer.acquire("report-2026-11-25T1600", LONG) is not None


def test_after_release_another_owner_can_acquire(subject: LockUnderTest) -> None:
    token = subject.lock.acquire(NAME, LONG)
    assert token is not None

    subject.lock.release(token)

    assert subject.peer.acquire(NAME, LONG) is not None


def test_an_expired_lease_lets_another_owner_in(subject: LockUnderTest) -> None:
    assert subject.lock.acquire(NAME, TTL) is not None

    subject.let_time_pass(TTL + timedelta(milliseconds=200))

    assert subject.peer.acquire(NAME, LONG) is not None


def test_a_stale_token_cannot_release_the_new_owners_lock(subject: LockUnderTest) -> None:
    stale = subject.lock.acquire(NAME, TTL)
    assert stale is not None
    subject.let_time_pass(TTL + timedelta(milliseconds=200))
    current = subject.peer.acquire(NAME, LONG)
    assert current is not None

    subject.lock.release(stale)

    assert subject.lock.acquire(NAME, LONG) is None
    subject.peer.release(current)
    assert subject.lock.acquire(NAME, LONG) is not None


def test_a_forged_token_releases_nothing(subject: LockUnderTest) -> None:
    assert subject.lock.acquire(NAME, LONG) is not None

    subject.peer.release(LockToken(NAME, "not-the-owner"))

    assert subject.peer.acquire(NAME, LONG) is None


def test_releasing_twice_or_after_expiry_is_harmless(subject: LockUnderTest) -> None:
    token = subject.lock.acquire(NAME, TTL)
    assert token is not None

    subject.lock.release(token)
    subject.lock.release(token)
    again = subject.lock.acquire(NAME, TTL)
    assert again is not None
    subject.let_time_pass(TTL + timedelta(milliseconds=200))
    subject.lock.release(again)

    assert subject.peer.acquire(NAME, LONG) is not None


@pytest.mark.parametrize("name", ["", "../escape", "a/b", "with space", "-leading-dash", "x" * 201])
def test_invalid_names_are_refused(subject: LockUnderTest, name: str) -> None:
    with pytest.raises(InvalidInput):
        subject.lock.acquire(name, LONG)


def test_a_lease_shorter_than_a_millisecond_is_refused(subject: LockUnderTest) -> None:
    with pytest.raises(InvalidInput):
        subject.lock.acquire(NAME, timedelta(0))


def test_the_token_value_stays_out_of_logs() -> None:
    assert "secret" not in repr(LockToken(NAME, "secret"))


@pytest.mark.redis
def test_an_unreachable_redis_is_storage_unavailable() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.2)
    lock = RedisLock(client, "logistic-test:")

    with pytest.raises(StorageUnavailable):
        lock.acquire(NAME, LONG)
    with pytest.raises(StorageUnavailable):
        lock.release(LockToken(NAME, "whatever"))


@pytest.mark.redis
@pytest.mark.parametrize("milliseconds", [1001, 1003, 1005, 2006, 4007])
def test_a_redis_lease_lasts_the_milliseconds_asked_for(
    redis_url: str, redis_prefix: str, milliseconds: int
) -> None:
    # Each of these is a millisecond short once written as float seconds and back.
    client = redis_client(redis_url, timeout_seconds=1)

    def server_milliseconds() -> int:
        seconds, microseconds = client.time()
        return int(seconds) * 1000 + int(microseconds) // 1000

    try:
        before = server_milliseconds()
        lease = RedisLock(client, redis_prefix).acquire(NAME, timedelta(milliseconds=milliseconds))
        expires = int(client.execute_command("PEXPIRETIME", f"{redis_prefix}{NAME}"))
        after = server_milliseconds()
    finally:
        client.close()

    assert lease is not None
    assert before + milliseconds <= expires <= after + milliseconds


def test_a_file_lock_in_an_unusable_directory_is_storage_unavailable(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    with pytest.raises(StorageUnavailable):
        FileLock(not_a_directory, SystemClock()).acquire(NAME, LONG)


NAMES = [f"{NAME}-{number}" for number in range(100)]


def _contend(directory: str, start: Barrier, results: Queue[list[bool]]) -> None:
    start.wait()
    lock = FileLock(Path(directory), SystemClock())
    results.put([lock.acquire(name, LONG) is not None for name in NAMES])


def test_file_lock_across_processes_gives_exactly_one_owner(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    contenders = 6
    start = context.Barrier(contenders)
    results: Queue[list[bool]] = context.Queue()
    processes = [
        context.Process(target=_contend, args=(str(tmp_path), start, results))
        for _ in range(contenders)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    owners_per_name = [sum(outcome[index] for outcome in outcomes) for index in range(len(NAMES))]
    assert owners_per_name == [1] * len(NAMES)
    assert all(process.exitcode == 0 for process in processes)


# Long enough to outlast the holder's exit and join on a loaded machine (300 ms did not).
DEAD_HOLDER_TTL = timedelta(seconds=4)


def _hold_and_die(directory: str, name: str) -> None:
    assert FileLock(Path(directory), SystemClock()).acquire(name, DEAD_HOLDER_TTL) is not None


def test_file_lock_of_a_dead_process_blocks_only_until_its_lease_ends(tmp_path: Path) -> None:
    holder = multiprocessing.get_context("spawn").Process(
        target=_hold_and_die, args=(str(tmp_path), NAME)
    )
    holder.start()
    holder.join(timeout=60)
    assert holder.exitcode == 0
    lock = FileLock(tmp_path, SystemClock())

    blocked = lock.acquire(NAME, LONG)
    time.sleep((DEAD_HOLDER_TTL + timedelta(milliseconds=100)).total_seconds())
    freed = lock.acquire(NAME, LONG)

    assert blocked is None
    assert freed is not None
