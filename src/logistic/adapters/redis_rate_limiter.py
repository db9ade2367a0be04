"""The RateLimiter port on Redis: one counter per client and window, shared by every worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from redis.client import Pipeline
from redis.cluster import ClusterPipeline

from logistic.adapters.redis_cache import RedisLike, _unavailable_on_error
from logistic.ports.rate_limiter import Window


class RedisRateLimiter:
    """INCR and PEXPIRE in one pipelined round trip.

    The window's index is part of the key, so a new window starts a new counter
    and every worker agrees on it; an old counter expires a window after its end.
    """

    def __init__(self, client: RedisLike, prefix: str = "logistic:") -> None:
        self._client = client
        self._prefix = prefix

    def hit(self, key: str, window: Window) -> int:
        with _unavailable_on_error("rate limit"):
            pipeline = self._client.pipeline(transaction=False)
            _count(pipeline, self._prefix, key, window)
            count, _ = pipeline.execute()
        return int(count)


class RedisCountedCache:
    """The CountedCache port: RedisRateLimiter's INCR and PEXPIRE and RedisCache's GETs,
    pipelined in one round trip, with the same `prefix` as those two."""

    def __init__(self, client: RedisLike, prefix: str = "logistic:") -> None:
        self._client = client
        self._prefix = prefix

    def hit_and_get(
        self, counter: str, window: Window, keys: Sequence[str]
    ) -> tuple[int, list[bytes | None]]:
        with _unavailable_on_error("rate limit and get"):
            pipeline = self._client.pipeline(transaction=False)
            _count(pipeline, self._prefix, counter, window)
            for key in keys:
                # One GET per key, not an MGET: on a cluster the keys may live on different slots.
                pipeline.get(self._prefix + key)
            count, _, *values = pipeline.execute()
        return int(count), [_bytes(value) for value in values]


def _bytes(value: bytes | str | None) -> bytes | None:
    # A client built with decode_responses=True answers str.
    return value.encode() if isinstance(value, str) else value


def _count(pipeline: Pipeline | ClusterPipeline, prefix: str, key: str, window: Window) -> None:
    name = f"{prefix}rate:{key}:{window.index}"
    keep = max(1, (2 * window.length) // timedelta(milliseconds=1))
    pipeline.incr(name)
    pipeline.pexpire(name, keep)
