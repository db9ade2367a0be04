"""The Lock port on Redis, shared by every replica: redis-py's own Lock on a server or a cluster."""

from __future__ import annotations

import secrets
from contextlib import suppress
from datetime import timedelta
from typing import cast

from redis.exceptions import LockNotOwnedError
from redis.lock import Lock as DriverLock

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import RedisLike, cache_unavailable_on_error
from logistic.ports.lock import LockToken, check_lock_name, ttl_milliseconds


class RedisLock:
    """Leases as keys `prefix + name` holding the owner's random token.

    redis-py's Lock takes a lease with SET NX PX and gives it up by token in one Lua
    script. A Lock object keeps its token for the thread that took it, while a
    LockToken may be released anywhere, so each call makes its own Lock, given the token.
    """

    def __init__(self, client: RedisLike, prefix: str, breaker: RedisBreaker | None = None) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        check_lock_name(name)
        # Half a millisecond over, so that redis-py's int(seconds * 1000) is never a
        # millisecond short of the lease asked for.
        seconds = (ttl_milliseconds(ttl) + 0.5) / 1000
        token = LockToken(name, secrets.token_hex(16))
        with cache_unavailable_on_error(f"lock {name!r}", self._breaker):
            taken = self._lease(name, seconds).acquire(blocking=False, token=token.value)
        return token if taken else None

    def release(self, token: LockToken) -> None:
        # Not owned: expired, released already, or another owner's now: nothing to give up.
        with (
            cache_unavailable_on_error(f"unlock {token.name!r}", self._breaker),
            suppress(LockNotOwnedError),
        ):
            self._lease(token.name).do_release(token.value)

    def _lease(self, name: str, seconds: float | None = None) -> DriverLock:
        # A LazyRedisCluster builds its client here, inside the callers' error handling.
        lock = self._client.lock(self._prefix + name, timeout=seconds, blocking=False)
        return cast(DriverLock, lock)
