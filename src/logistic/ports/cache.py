from __future__ import annotations

from datetime import timedelta
from typing import Protocol


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
