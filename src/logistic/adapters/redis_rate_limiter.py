"""The RateLimiter port on Redis: one counter per client and window, shared by every worker."""

from __future__ import annotations

from datetime import timedelta

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import RedisLike, cache_unavailable_on_error
from logistic.ports.rate_limiter import Window
from logistic.settings import DEFAULT_REDIS_PREFIX

_MILLISECOND = timedelta(milliseconds=1)


class RedisRateLimiter:
    """INCR and PEXPIRE in one pipelined round trip.

    The window's index is part of the key, so a new window starts a new counter
    and every worker agrees on it; an old counter expires a window after its end.
    """

    def __init__(
        self,
        client: RedisLike,
        prefix: str = DEFAULT_REDIS_PREFIX,
        breaker: RedisBreaker | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker

    def hit(self, key: str, window: Window, amount: int = 1) -> int:
        name, keep = window_counter(self._prefix, key, window)
        with cache_unavailable_on_error("rate limit", self._breaker):
            pipeline = self._client.pipeline(transaction=False)
            pipeline.incr(name, amount)
            pipeline.pexpire(name, keep)
            count, _ = pipeline.execute()
        return int(count)


def window_counter(prefix: str, key: str, window: Window) -> tuple[str, int]:
    """The name of `key`'s counter in `window`, and how long it is kept, in milliseconds."""
    keep = max(1, (2 * window.length) // _MILLISECOND)
    return f"{prefix}rate:{key}:{window.index}", keep
