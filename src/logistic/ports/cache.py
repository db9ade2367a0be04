"""The cache of /query bodies, and the rate-limit counter read with it in one trip."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from logistic.ports.rate_limiter import Window


class Cache(Protocol):
    """A byte-string cache with expiry.

    Every method raises CacheUnavailable (a StorageUnavailable) when the back end
    cannot be reached in time; callers treat the cache as optional.
    """

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent or expired."""
        ...

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        """Store `value` under `key`, replacing any previous value, expiring after `ttl`."""
        ...

    def delete(self, *keys: str) -> None:
        """Remove the keys; absent keys are ignored."""
        ...

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """`get` of each key, in one trip to the back end: a list in the order of `keys`."""
        ...

    def set_many(self, entries: Sequence[tuple[str, bytes, timedelta]]) -> None:
        """`set` of each (key, value, ttl), in one trip to the back end (not atomic: on
        CacheUnavailable some may have been stored)."""
        ...


class CountedCache(Protocol):
    """A rate-limit counter and the cache kept in one back end, used in one trip.

    `hit_and_get` is RateLimiter.hit(counter, window) and Cache.get of each key at
    once, under the same keys as those ports' adapters on that back end. When the
    back end fails it raises StorageUnavailable, and the hit may or may not be counted.
    """

    def hit_and_get(
        self, counter: str, window: Window, keys: Sequence[str], held: bytes | None = None
    ) -> tuple[int, list[bytes | None]]:
        """The count so far (this hit included) and the bytes under each key (None if absent).

        When `held` is given (a poller's entity tag) and the first key's value starts with
        it, that value is `held` alone: the caller has the rest, so the back end need not
        send it."""
        ...
