"""Redis clients for the adapters: a single server, TLS, or a Redis Cluster built on first use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeAlias
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.domain.errors import CacheUnavailable

HEALTH_CHECK_INTERVAL_SECONDS = 30
# While no cluster node answers, a caller fails at once instead of waiting for a timeout.
CLUSTER_RETRY_SECONDS = 1.0
# Every error the driver raises. RedisClusterException is not a RedisError: redis-py
# raises it when no cluster node answers.
REDIS_ERRORS = (redis.RedisError, RedisClusterException)
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


@contextmanager
def cache_unavailable_on_error(
    operation: str, breaker: RedisBreaker | None = None
) -> Iterator[None]:
    """Turns a driver error raised inside the block into CacheUnavailable.

    With a breaker, the block does not run while it is open (CacheBypassed), and
    its outcome is told to the breaker.
    """
    if breaker is None:
        try:
            yield
        except REDIS_ERRORS as error:
            raise CacheUnavailable(f"redis cache {operation} failed: {error}") from error
        return
    breaker.before()
    try:
        yield
    except REDIS_ERRORS as error:
        breaker.after(error)
        raise CacheUnavailable(f"redis cache {operation} failed: {error}") from error
    except BaseException:
        breaker.after(None)
        raise
    breaker.after(None)


class LazyRedisCluster:
    """A RedisCluster built on first use instead of at start.

    redis-py's RedisCluster loads the slot map in its constructor, so a process
    started while the cluster is down could not start at all. Through this class
    every use builds the client until a node answers (failing at once, with the
    last error, for `retry_seconds` after a failed attempt); then every attribute
    is the built client's. Driver errors pass through for the adapters to translate.
    """

    def __init__(
        self,
        build: Callable[[], RedisCluster],
        retry_seconds: float = CLUSTER_RETRY_SECONDS,
    ) -> None:
        self._build = build
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._client: RedisCluster | None = None
        self._failure: tuple[float, RedisClusterException | redis.RedisError] | None = None

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._cluster(), name)

    def _cluster(self) -> RedisCluster:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is not None:
                return self._client
            if self._failure is not None:
                failed_at, error = self._failure
                if time.monotonic() - failed_at < self._retry_seconds:
                    raise RedisClusterException(f"no cluster node answered lately: {error}")
            try:
                self._client = self._build()
            except REDIS_ERRORS as error:
                self._failure = (time.monotonic(), error)
                raise
            self._failure = None
            return self._client


RedisLike: TypeAlias = redis.Redis | RedisCluster | LazyRedisCluster


def redis_client(url: str, timeout_seconds: float = 0.05) -> RedisLike:
    """A client for `url` that gives up quickly, so a slow Redis never slows an answer.

    Nothing connects here. `redis://` and `rediss://` (TLS) give a `redis.Redis`.
    `redis+cluster://`, `rediss+cluster://` or the query parameter `cluster=true` give a
    LazyRedisCluster: its first use loads the cluster's slot map, and while no node
    answers every call raises (CacheUnavailable from RedisCache), so a process that
    starts during a cluster outage serves from the database and uses the cluster once
    it is back. Failed commands are not retried: a call gives up after one connect and
    one read timeout at most, and the caller falls back to the database.
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
    return LazyRedisCluster(lambda: RedisCluster.from_url(plain_url, **options))


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
    plain = SplitResult(scheme, parts.netloc, parts.path, kept, parts.fragment)
    return urlunsplit(plain), cluster
