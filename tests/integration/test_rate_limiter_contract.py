"""One contract for the RateLimiter port: memory (one process) and Redis (every worker)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from logistic.adapters.memory import MemoryRateLimiter
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_rate_limiter import RedisRateLimiter
from logistic.domain.errors import StorageUnavailable
from logistic.ports.rate_limiter import RateLimiter, Window
from tests.services import free_port

MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 11, 25, 4, 0, 30, tzinfo=UTC)


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    cluster = request.param == "redis-cluster"
    url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    prefix: str = request.getfixturevalue("redis_cluster_prefix" if cluster else "redis_prefix")
    client = redis_client(url, timeout_seconds=1)
    yield RedisRateLimiter(client, prefix=prefix)
    client.close()


def test_windows_are_aligned_on_the_epoch() -> None:
    window = Window.containing(NOW, MINUTE)
    assert window.start == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 25, 4, 1, tzinfo=UTC)
    assert Window.containing(window.end, MINUTE).index == window.index + 1
    assert Window.containing(window.end - timedelta(microseconds=1), MINUTE) == window


def test_hits_are_counted_per_key(limiter: RateLimiter) -> None:
    window = Window.containing(NOW, MINUTE)
    assert [limiter.hit("query:192.0.2.1", window) for _ in range(3)] == [1, 2, 3]
    assert limiter.hit("query:2001:db8::1", window) == 1
    assert limiter.hit("query:192.0.2.1", window) == 4


def test_a_hit_may_count_several_requests_at_once(limiter: RateLimiter) -> None:
    window = Window.containing(NOW, MINUTE)
    assert limiter.hit("batch", window, 50) == 50
    assert limiter.hit("batch", window) == 51
    assert limiter.hit("batch", window, 3) == 54
    assert limiter.hit("batch", Window.containing(NOW + MINUTE, MINUTE), 7) == 7


def test_a_new_window_starts_again_from_one(limiter: RateLimiter) -> None:
    window = Window.containing(NOW, MINUTE)
    for _ in range(5):
        limiter.hit("client", window)
    later = Window.containing(NOW + MINUTE, MINUTE)
    assert limiter.hit("client", later) == 1
    assert limiter.hit("client", Window.containing(NOW, timedelta(hours=1))) == 1


def test_concurrent_hits_are_each_counted_once(limiter: RateLimiter) -> None:
    window = Window.containing(NOW, MINUTE)
    start = threading.Barrier(8)

    def hit_many(_: int) -> list[int]:
        start.wait()
        return [limiter.hit("crowd", window) for _ in range(25)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = [count for batch in pool.map(hit_many, range(8)) for count in batch]
    assert sorted(counts) == list(range(1, 201))


def test_memory_counters_past_their_bound_forget_other_windows_first() -> None:
    limiter = MemoryRateLimiter(max_keys=100)
    new = Window.containing(NOW + MINUTE, MINUTE)
    old = Window.containing(NOW, MINUTE)
    limiter.hit("recent", new)  # the oldest key, but of the current window
    for number in range(99):
        limiter.hit(f"client-{number}", old)

    limiter.hit("one-too-many", new)

    assert limiter.hit("recent", new) == 2
    assert limiter.hit("client-0", old) == 1  # forgotten


def test_memory_counters_past_their_bound_forget_the_oldest_keys() -> None:
    limiter = MemoryRateLimiter(max_keys=100)
    window = Window.containing(NOW, MINUTE)
    for number in range(100):
        limiter.hit(f"client-{number}", window)
        limiter.hit(f"client-{number}", window)

    limiter.hit("one-too-many", window)

    assert limiter.hit("client-0", window) == 1  # forgotten
    assert limiter.hit("client-99", window) == 3


@pytest.mark.redis
def test_redis_counters_expire_after_their_window(redis_url: str, redis_prefix: str) -> None:
    client = redis_client(redis_url, timeout_seconds=1)
    try:
        window = Window.containing(NOW, timedelta(seconds=30))
        RedisRateLimiter(client, prefix=redis_prefix).hit("client", window)
        ttl = client.pttl(f"{redis_prefix}rate:client:{window.index}")
        assert 55_000 < ttl <= 60_000
    finally:
        client.close()


def test_redis_unreachable_is_storage_unavailable() -> None:
    port = free_port()
    with socket.socket() as closed:  # nothing listens on `port`
        assert closed.connect_ex(("127.0.0.1", port)) != 0
    client = redis_client(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.2)
    with pytest.raises(StorageUnavailable):
        RedisRateLimiter(client).hit("client", Window.containing(NOW, MINUTE))
