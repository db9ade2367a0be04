"""One contract for the Cache port, run against every adapter."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from attrs import frozen

from logistic.adapters.clock import FixedClock
from logistic.adapters.memory import MemoryCache
from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import redis_client
from logistic.domain.errors import CacheUnavailable
from logistic.ports.cache import Cache
from tests.services import free_port

TTL = timedelta(milliseconds=300)
LONG = timedelta(minutes=5)


@frozen
class CacheUnderTest:
    cache: Cache
    let_time_pass: Callable[[timedelta], None]


def _sleep(delta: timedelta) -> None:
    time.sleep(delta.total_seconds())


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
def subject(request: pytest.FixtureRequest) -> Iterator[CacheUnderTest]:
    if request.param == "memory":
        clock = FixedClock(datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
        yield CacheUnderTest(MemoryCache(clock), clock.advance)
        return
    cluster = request.param == "redis-cluster"
    url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    prefix: str = request.getfixturevalue("redis_cluster_prefix" if cluster else "redis_prefix")
    # A generous timeout: this suite checks behaviour, not speed, and must not flake.
    client = redis_client(url, timeout_seconds=1)
    yield CacheUnderTest(RedisCache(client, prefix=prefix), _sleep)
    client.close()


def test_a_missing_key_is_none(subject: CacheUnderTest) -> None:
    assert subject.cache.get("absent") is None


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b'{"sno": 1}',
        "臺北物流中心 → 高雄".encode(),
        bytes(range(256)),
    ],
    ids=["empty", "ascii", "utf-8", "binary"],
)
def test_stored_bytes_come_back_exactly(subject: CacheUnderTest, value: bytes) -> None:
    subject.cache.set("shipment:1", value, LONG)

    assert subject.cache.get("shipment:1") == value


def test_keys_may_be_non_ascii(subject: CacheUnderTest) -> None:
    subject.cache.set("收件人:王小明", b"x", LONG)

    assert subject.cache.get("收件人:王小明") == b"x"


def test_set_replaces_the_previous_value(subject: CacheUnderTest) -> None:
    subject.cache.set("shipment:1", b"old", LONG)
    subject.cache.set("shipment:1", b"new", LONG)

    assert subject.cache.get("shipment:1") == b"new"


def test_delete_removes_several_keys_and_ignores_absent_ones(subject: CacheUnderTest) -> None:
    for key in ("a", "b", "c"):
        subject.cache.set(key, key.encode(), LONG)

    subject.cache.delete("a", "c", "never-stored")

    assert subject.cache.get("a") is None
    assert subject.cache.get("b") == b"b"
    assert subject.cache.get("c") is None


def test_delete_with_no_keys_does_nothing(subject: CacheUnderTest) -> None:
    subject.cache.set("a", b"a", LONG)

    subject.cache.delete()

    assert subject.cache.get("a") == b"a"


def test_a_value_expires_after_its_ttl(subject: CacheUnderTest) -> None:
    subject.cache.set("shipment:1", b"soon gone", TTL)
    assert subject.cache.get("shipment:1") == b"soon gone"

    subject.let_time_pass(TTL + timedelta(milliseconds=100))

    assert subject.cache.get("shipment:1") is None


def test_overwriting_restarts_the_ttl(subject: CacheUnderTest) -> None:
    subject.cache.set("shipment:1", b"first", TTL)
    subject.cache.set("shipment:1", b"second", LONG)

    subject.let_time_pass(TTL + timedelta(milliseconds=100))

    assert subject.cache.get("shipment:1") == b"second"


def test_a_non_positive_ttl_leaves_nothing_behind(subject: CacheUnderTest) -> None:
    subject.cache.set("shipment:1", b"old", LONG)

    subject.cache.set("shipment:1", b"already stale", timedelta(0))

    assert subject.cache.get("shipment:1") is None


def test_get_many_answers_each_key_in_order_none_for_the_absent(subject: CacheUnderTest) -> None:
    subject.cache.set("a", b"1", LONG)
    subject.cache.set("收件人:c", "三".encode(), LONG)

    assert subject.cache.get_many(["收件人:c", "absent", "a", "a"]) == [
        "三".encode(),
        None,
        b"1",
        b"1",
    ]
    assert subject.cache.get_many([]) == []


def test_set_many_stores_each_entry_with_its_own_ttl(subject: CacheUnderTest) -> None:
    subject.cache.set("gone", b"old", LONG)
    subject.cache.set_many(
        [
            ("short", b"soon gone", TTL),
            ("long", bytes(range(256)), LONG),
            ("gone", b"already stale", timedelta(0)),
        ]
    )
    assert subject.cache.get_many(["short", "long", "gone"]) == [
        b"soon gone",
        bytes(range(256)),
        None,
    ]

    subject.let_time_pass(TTL + timedelta(milliseconds=100))

    assert subject.cache.get_many(["short", "long"]) == [None, bytes(range(256))]
    subject.cache.set_many([])


def test_the_memory_cache_keeps_a_value_until_its_ttl_is_reached() -> None:
    clock = FixedClock(datetime(2024, 5, 1, 9, 30, tzinfo=UTC))
    cache = MemoryCache(clock)
    cache.set("shipment:1", b"x", timedelta(seconds=60))

    clock.advance(timedelta(seconds=59, milliseconds=999))
    assert cache.get("shipment:1") == b"x"
    clock.advance(timedelta(milliseconds=1))
    assert cache.get("shipment:1") is None


@pytest.mark.redis
def test_redis_stores_the_ttl_with_the_value(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache = RedisCache(client, prefix=redis_prefix)

    cache.set("shipment:1", b"x", timedelta(seconds=90))

    assert 89_000 < client.pttl(f"{redis_prefix}shipment:1") <= 90_000
    client.close()


@pytest.mark.redis
def test_redis_caches_with_other_prefixes_do_not_meet(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    ours = RedisCache(client, prefix=f"{redis_prefix}ours:")
    theirs = RedisCache(client, prefix=f"{redis_prefix}theirs:")

    ours.set("shipment:1", b"ours", LONG)

    assert theirs.get("shipment:1") is None
    client.close()


CALLS: dict[str, Callable[[Cache], object]] = {
    "get": lambda cache: cache.get("shipment:1"),
    "set": lambda cache: cache.set("shipment:1", b"x", LONG),
    "delete": lambda cache: cache.delete("shipment:1", "shipment:2"),
    "get_many": lambda cache: cache.get_many(["shipment:1", "shipment:2"]),
    "set_many": lambda cache: cache.set_many([("shipment:1", b"x", LONG)]),
}


def _assert_unavailable_quickly(cache: Cache, call: Callable[[Cache], object]) -> None:
    started = time.monotonic()
    with pytest.raises(CacheUnavailable) as raised:
        call(cache)
    assert time.monotonic() - started < 1
    assert isinstance(raised.value.__cause__, redis.RedisError)


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_closed_port_is_unavailable_quickly(call: Callable[[Cache], object]) -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    _assert_unavailable_quickly(RedisCache(client), call)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers: a Redis too slow to wait for."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_silent_server_is_unavailable_quickly(
    silent_server: int, call: Callable[[Cache], object]
) -> None:
    client = redis_client(f"redis://127.0.0.1:{silent_server}/0")
    _assert_unavailable_quickly(RedisCache(client), call)


def test_a_plain_url_gives_a_client_that_has_not_connected_yet() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0?cluster=false")

    assert isinstance(client, redis.Redis)
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 0.05


def test_a_rediss_url_speaks_tls() -> None:
    client = redis_client("rediss://cache.example.invalid:6380/0")

    assert isinstance(client, redis.Redis)
    assert client.connection_pool.connection_class is redis.SSLConnection


@pytest.mark.parametrize(
    "url", ["redis+cluster://127.0.0.1:{port}", "redis://127.0.0.1:{port}?cluster=true"]
)
def test_an_unreachable_cluster_is_unavailable_quickly(url: str) -> None:
    started = time.monotonic()
    client = redis_client(url.format(port=free_port()))  # connects nothing yet
    with pytest.raises(CacheUnavailable):
        RedisCache(client).get("shipment:1")
    assert time.monotonic() - started < 1
