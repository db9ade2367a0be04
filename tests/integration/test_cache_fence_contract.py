"""One contract for each port of ports/cache_fence.py: CacheGenerations against memory,
SQLite and MariaDB (both drivers); CacheFence against Redis and a Redis Cluster, and the
fenced cache reads it guards."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from logistic.adapters.memory import MemoryCacheGenerations
from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_counted_cache import RedisCountedCache
from logistic.adapters.redis_fence import RedisFence
from logistic.adapters.sql.cache_generations import SqlCacheGenerations
from logistic.ports.cache_fence import CacheGenerations
from logistic.ports.rate_limiter import Window
from tests.integration.sql_backends import Backend

LONG = timedelta(minutes=5)


@pytest.fixture
def generations(empty_backend: Backend) -> CacheGenerations:
    if empty_backend.engine is None:
        return MemoryCacheGenerations()
    return SqlCacheGenerations(empty_backend.engine)


def test_the_generation_starts_at_zero_and_each_advance_adds_one(
    generations: CacheGenerations,
) -> None:
    assert generations.current() == 0
    generations.advance()
    generations.advance()
    assert generations.current() == 2


def test_concurrent_advances_are_all_counted(generations: CacheGenerations) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: generations.advance(), range(12)))
    assert generations.current() == 12


class Fenced:
    def __init__(self, url: str, prefix: str) -> None:
        self.client = redis_client(url, timeout_seconds=1)
        self.fence = RedisFence(self.client, prefix)
        self.cache = RedisCache(self.client, prefix, fenced=True)
        self.counted = RedisCountedCache(self.client, prefix, fenced=True)


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
def fenced(request: pytest.FixtureRequest) -> Iterator[Fenced]:
    cluster = request.param == "redis-cluster"
    url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    prefix: str = request.getfixturevalue("redis_cluster_prefix" if cluster else "redis_prefix")
    subject = Fenced(url, prefix)
    yield subject
    subject.client.close()


def _in_ms(seconds: float) -> int:
    return int((time.time() + seconds) * 1000)


def test_without_a_fence_every_read_is_a_miss(fenced: Fenced) -> None:
    fenced.cache.set("query:tagged:masked:1", b"body", LONG)
    assert fenced.cache.get("query:tagged:masked:1") is None
    assert fenced.cache.get_many(["query:tagged:masked:1"]) == [None]
    count, values = fenced.counted.hit_and_get("client", Window(0, LONG), ["query:tagged:masked:1"])
    assert (count, values) == (1, [None])


def test_a_started_fence_lets_reads_through_until_it_lapses(fenced: Fenced) -> None:
    fenced.cache.set("query:tagged:masked:1", b"body", LONG)
    fenced.fence.start(3, _in_ms(0.5))
    assert fenced.cache.get("query:tagged:masked:1") == b"body"
    _, values = fenced.counted.hit_and_get("client", Window(0, LONG), ["query:tagged:masked:1"])
    assert values == [b"body"]
    time.sleep(0.7)
    assert fenced.cache.get("query:tagged:masked:1") is None


def test_hold_extends_only_a_fence_of_the_same_generation(fenced: Fenced) -> None:
    assert not fenced.fence.hold(3, _in_ms(5))  # no fence yet
    fenced.fence.start(3, _in_ms(0.5))
    assert not fenced.fence.hold(4, _in_ms(5))
    assert fenced.fence.hold(3, _in_ms(5))
    time.sleep(0.7)
    fenced.cache.set("page:en:1", b"page", LONG)
    assert fenced.cache.get("page:en:1") == b"page"


def test_a_lease_already_past_sets_no_fence(fenced: Fenced) -> None:
    """A command delayed by a hung server cannot extend the fence past its lease."""
    fenced.fence.start(3, _in_ms(-1))
    fenced.cache.set("query:tagged:masked:1", b"body", LONG)
    assert fenced.cache.get("query:tagged:masked:1") is None
    assert not fenced.fence.hold(3, _in_ms(5))


def test_clear_removes_the_fence_and_every_entry_but_nothing_else(fenced: Fenced) -> None:
    fenced.fence.start(1, _in_ms(5))
    entries = [f"query:tagged:masked:{sno}" for sno in range(40)] + ["page:en:1", "query:missing:7"]
    for key in entries:
        fenced.cache.set(key, b"x", LONG)
    fenced.cache.set("rate:other", b"kept", LONG)
    assert fenced.fence.clear()
    fenced.fence.start(2, _in_ms(5))
    assert fenced.cache.get_many(entries) == [None] * len(entries)
    assert fenced.cache.get("rate:other") == b"kept"
