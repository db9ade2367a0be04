"""RedisCountedCache: the rate limiter's counter and the cache's entries, in one round trip."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis

from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_counted_cache import RedisCountedCache
from logistic.adapters.redis_rate_limiter import RedisRateLimiter
from logistic.domain.errors import StorageUnavailable
from logistic.ports.rate_limiter import Window
from tests.services import free_port

WINDOW = Window.containing(datetime(2026, 11, 25, 4, 0, 30, tzinfo=UTC), timedelta(minutes=1))


@pytest.fixture(params=["redis", "redis-cluster"])
def redis_at(request: pytest.FixtureRequest) -> tuple[str, str]:
    cluster = request.param == "redis-cluster"
    url: str = request.getfixturevalue("redis_cluster_url" if cluster else "redis_url")
    prefix: str = request.getfixturevalue("redis_cluster_prefix" if cluster else "redis_prefix")
    return url, prefix


@pytest.mark.redis
def test_it_counts_with_the_rate_limiter_and_reads_the_cache(redis_at: tuple[str, str]) -> None:
    url, prefix = redis_at
    client = redis_client(url, timeout_seconds=1)
    try:
        limiter = RedisRateLimiter(client, prefix=prefix)
        cache = RedisCache(client, prefix=prefix)
        counted = RedisCountedCache(client, prefix=prefix)
        cache.set("query:masked:7", b'{"sno":"7"}', timedelta(minutes=5))

        assert counted.hit_and_get("query:192.0.2.1", WINDOW, ["query:masked:7"]) == (
            1,
            [b'{"sno":"7"}'],
        )
        assert limiter.hit("query:192.0.2.1", WINDOW) == 2
        assert counted.hit_and_get(
            "query:192.0.2.1", WINDOW, ["query:masked:8", "query:masked:7"]
        ) == (3, [None, b'{"sno":"7"}'])
        assert counted.hit_and_get("query:192.0.2.1", WINDOW, []) == (4, [])
    finally:
        client.close()


@pytest.mark.redis
def test_the_counter_expires_a_window_after_the_window_ends(redis_at: tuple[str, str]) -> None:
    url, prefix = redis_at
    client = redis_client(url, timeout_seconds=1)
    try:
        RedisCountedCache(client, prefix=prefix).hit_and_get("query:192.0.2.2", WINDOW, [])
        ttl = client.pttl(f"{prefix}rate:query:192.0.2.2:{WINDOW.index}")
    finally:
        client.close()
    assert 110_000 < ttl <= 120_000


@pytest.mark.redis
def test_a_single_server_runs_one_script_and_loads_it_again_after_a_flush(
    redis_url: str, redis_prefix: str
) -> None:
    name = f"counted-{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in redis_url else "?"
    client = redis_client(f"{redis_url}{separator}client_name={name}", timeout_seconds=1)
    counted = RedisCountedCache(client, prefix=redis_prefix)
    observer = redis.Redis.from_url(redis_url)

    def last_commands() -> list[str]:
        """The last command of each of the client's connections."""
        return [entry["cmd"] for entry in observer.client_list() if entry.get("name") == name]

    try:
        client.script_flush()
        assert counted.hit_and_get("query:192.0.2.3", WINDOW, ["query:masked:9"]) == (1, [None])
        assert "evalsha" in last_commands()  # the script by its digest: it is cached now
        client.script_flush()  # as after a restart: EVALSHA no longer finds it
        assert counted.hit_and_get("query:192.0.2.3", WINDOW, ["query:masked:9"]) == (2, [None])
        assert "evalsha" in last_commands()
    finally:
        client.close()
        observer.close()


def test_a_redis_that_does_not_answer_is_storage_unavailable() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.2)
    with pytest.raises(StorageUnavailable):
        RedisCountedCache(client).hit_and_get("query:client", WINDOW, ["query:masked:1"])


@pytest.mark.redis
def test_a_held_tag_that_still_matches_comes_back_alone(redis_at: tuple[str, str]) -> None:
    """A poller's 304: the first key's value is not sent when it starts with the tag held."""
    url, prefix = redis_at
    client = redis_client(url, timeout_seconds=1)
    try:
        cache = RedisCache(client, prefix=prefix)
        counted = RedisCountedCache(client, prefix=prefix)
        cache.set("query:masked:11", b'"tag-one"{"sno":"11"}', timedelta(minutes=5))
        cache.set("query:unknown:11", b"1", timedelta(minutes=5))
        keys = ["query:masked:11", "query:unknown:11"]

        assert counted.hit_and_get("query:192.0.2.4", WINDOW, keys, b'"tag-one"') == (
            1,
            [b'"tag-one"', b"1"],
        )
        assert counted.hit_and_get("query:192.0.2.4", WINDOW, keys, b'"tag-two"') == (
            2,
            [b'"tag-one"{"sno":"11"}', b"1"],
        )
        assert counted.hit_and_get(
            "query:192.0.2.4", WINDOW, ["query:masked:12", *keys], b'"tag-one"'
        ) == (3, [None, b'"tag-one"{"sno":"11"}', b"1"])
    finally:
        client.close()
