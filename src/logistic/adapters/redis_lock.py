"""The Lock port on Redis, shared by every replica: redis-py's own Lock on a server or a cluster."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import cast

from redis.exceptions import LockNotOwnedError
from redis.lock import Lock as DriverLock

from logistic.adapters.redis_client import REDIS_ERRORS, RedisLike
from logistic.domain.errors import StorageUnavailable
from logistic.ports.lock import LockToken, check_lock_name, ttl_milliseconds


class RedisLock:
    """Leases as keys `prefix + name` holding the owner's random token.

    redis-py's Lock takes a lease with SET NX PX and gives it up by token in one Lua
    script. A Lock object keeps its token for the thread that took it, while a
    LockToken may be released anywhere, so each call makes its own Lock, given the token.
    """

    def __init__(self, client: RedisLike, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        check_lock_name(name)
        # Half a millisecond over, so that redis-py's int(seconds * 1000) is never a
        # millisecond short of the lease asked for.
        seconds = (ttl_milliseconds(ttl) + 0.5) / 1000
        token = LockToken(name, secrets.token_hex(16))
        try:
            taken = self._lease(name, seconds).acquire(blocking=False, token=token.value)
        except REDIS_ERRORS as error:
            raise StorageUnavailable(
                f"could not take the lock {name!r} in Redis: {error}"
            ) from error
        return token if taken else None

    def release(self, token: LockToken) -> None:
        try:
            self._lease(token.name).do_release(token.value)
        except LockNotOwnedError:
            pass  # expired, released already, or another owner's now: nothing to give up
        except REDIS_ERRORS as error:
            raise StorageUnavailable(
                f"could not release the lock {token.name!r} in Redis: {error}"
            ) from error

    def _lease(self, name: str, seconds: float | None = None) -> DriverLock:
        # A LazyRedisCluster builds its client here, inside the callers' error handling.
        lock = self._client.lock(self._prefix + name, timeout=seconds, blocking=False)
        return cast(DriverLock, lock)
