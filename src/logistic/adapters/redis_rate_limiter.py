"""The RateLimiter port on Redis: one counter per client and window, shared by every worker."""

from __future__ import annotations

from datetime import timedelta

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
        name = f"{self._prefix}rate:{key}:{window.index}"
        keep = max(1, (2 * window.length) // timedelta(milliseconds=1))
        with _unavailable_on_error("rate limit"):
            pipeline = self._client.pipeline(transaction=False)
            pipeline.incr(name)
            pipeline.pexpire(name, keep)
            count, _ = pipeline.execute()
        return int(count)
