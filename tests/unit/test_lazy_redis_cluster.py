"""LazyRedisCluster: no node is contacted until first use, and a failed start is tried again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from redis.exceptions import RedisClusterException

from logistic.adapters.redis_client import LazyRedisCluster
from logistic.adapters.redis_lock import RedisLock
from logistic.domain.errors import StorageUnavailable


class FakeCluster:
    def __init__(self) -> None:
        self.closed = False

    def get(self, key: str) -> bytes:
        return b"value of " + key.encode()

    def close(self) -> None:
        self.closed = True


class Builds:
    """Builds that fail while `down` is true, counted."""

    def __init__(self, down: bool) -> None:
        self.down = down
        self.count = 0
        self.built: list[FakeCluster] = []

    def __call__(self) -> Any:
        self.count += 1
        if self.down:
            raise RedisClusterException("Redis Cluster cannot be connected")
        self.built.append(FakeCluster())
        return self.built[-1]


def test_nothing_is_contacted_to_build_it_or_make_a_lock_on_it() -> None:
    builds = Builds(down=True)
    client = LazyRedisCluster(builds)

    RedisLock(client, "logistic:lock:")

    assert builds.count == 0


def test_the_first_use_builds_the_client_once() -> None:
    builds = Builds(down=False)
    client = LazyRedisCluster(builds)

    assert client.get("a") == b"value of a"
    assert client.get("b") == b"value of b"
    assert builds.count == 1


def test_after_a_failed_start_callers_fail_at_once_until_the_retry_time() -> None:
    builds = Builds(down=True)
    client = LazyRedisCluster(builds, retry_seconds=3600)

    with pytest.raises(RedisClusterException):
        client.get("a")
    builds.down = False
    with pytest.raises(RedisClusterException, match="lately"):
        client.get("a")

    assert builds.count == 1


def test_a_cluster_that_comes_back_is_used() -> None:
    builds = Builds(down=True)
    client = LazyRedisCluster(builds, retry_seconds=0)
    with pytest.raises(RedisClusterException):
        client.get("a")

    builds.down = False

    assert client.get("a") == b"value of a"
    assert builds.count == 2


def test_a_lock_on_an_unreachable_cluster_is_storage_unavailable() -> None:
    lock = RedisLock(LazyRedisCluster(Builds(down=True)), "logistic:lock:")

    with pytest.raises(StorageUnavailable):
        lock.acquire("report-2026-11-25T0800", timedelta(minutes=5))


def test_close_closes_the_built_client_only() -> None:
    builds = Builds(down=False)
    never_used = LazyRedisCluster(builds)
    used = LazyRedisCluster(builds)
    used.get("a")

    never_used.close()
    used.close()

    assert builds.count == 1
    assert builds.built[0].closed
