"""The Cache port on Redis (a single server, TLS, or a Redis Cluster)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from logistic.domain.errors import CacheUnavailable

RedisLike: TypeAlias = redis.Redis | RedisCluster

HEALTH_CHECK_INTERVAL_SECONDS = 30
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# RedisClusterException is not a RedisError: redis-py raises it when no node answers.
_DRIVER_ERRORS = (redis.RedisError, RedisClusterException)


class RedisCache:
    """Keys live under `prefix`; every driver failure becomes CacheUnavailable."""

    def __init__(self, client: RedisLike, prefix: str = "logistic:") -> None:
        self._client = client
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        with _unavailable_on_error("get"):
            value = self._client.get(self._prefix + key)
        if isinstance(value, str):  # a client built with decode_responses=True
            return value.encode()
        return value

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        with _unavailable_on_error("set"):
            if ttl <= timedelta(0):
                # Already expired: Redis refuses PX 0, so drop any previous value instead.
                self._client.delete(self._prefix + key)
                return
            milliseconds = max(1, math.ceil(ttl / timedelta(milliseconds=1)))
            self._client.set(self._prefix + key, value, px=milliseconds)

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        with _unavailable_on_error("delete"):
            self._client.delete(*(self._prefix + key for key in keys))


@contextmanager
def _unavailable_on_error(operation: str) -> Iterator[None]:
    try:
        yield
    except _DRIVER_ERRORS as error:
        raise CacheUnavailable(f"redis cache {operation} failed: {error}") from error


def redis_client(url: str, timeout_seconds: float = 0.05) -> RedisLike:
    """A client for `url` that gives up quickly, so a slow Redis never slows an answer.

    `redis://` and `rediss://` (TLS) give a `redis.Redis`, which connects on first use.
    `redis+cluster://`, `rediss+cluster://` or the query parameter `cluster=true` give a
    `RedisCluster`: redis-py loads the cluster's slot map in that constructor, so it
    contacts a node here, and CacheUnavailable is raised when none answers.
    Failed commands are not retried: a call gives up after one connect and one read
    timeout at most, and the caller falls back to the database.
    """
    plain_url, cluster = _cluster_mode(url)
    options = {
        "socket_connect_timeout": timeout_seconds,
        "socket_timeout": timeout_seconds,
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "retry": Retry(NoBackoff(), retries=0),
    }
    if not cluster:
        return redis.Redis.from_url(plain_url, **options)
    with _unavailable_on_error("connect"):
        return RedisCluster.from_url(plain_url, **options)


def _cluster_mode(url: str) -> tuple[str, bool]:
    """The URL redis-py understands, and whether it names a cluster."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flags = [value for name, value in query if name == "cluster"]
    kept = urlencode([(name, value) for name, value in query if name != "cluster"])
    scheme = _CLUSTER_SCHEMES.get(parts.scheme, parts.scheme)
    cluster = parts.scheme in _CLUSTER_SCHEMES or any(
        flag.lower() in {"true", "1", "yes"} for flag in flags
    )
    return urlunsplit(parts._replace(scheme=scheme, query=kept)), cluster
