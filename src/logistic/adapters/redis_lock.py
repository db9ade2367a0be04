"""Leases in Redis, shared by every replica: SET NX PX to take, compare-and-delete to give up."""

from __future__ import annotations

import secrets
from datetime import timedelta

from logistic.adapters.redis_client import REDIS_ERRORS, RedisLike
from logistic.domain.errors import StorageUnavailable
from logistic.ports.lock import LockToken, check_lock_name, ttl_milliseconds

# Deletes the key only while it still holds the caller's token, in one step.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLock:
    """Leases as keys `prefix + name` holding the owner's random token (a server or a cluster)."""

    def __init__(self, client: RedisLike, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._release = client.register_script(_RELEASE)

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        check_lock_name(name)
        milliseconds = ttl_milliseconds(ttl)
        token = LockToken(name, secrets.token_hex(16))
        try:
            taken = self._client.set(self._prefix + name, token.value, nx=True, px=milliseconds)
        except REDIS_ERRORS as error:
            raise StorageUnavailable(
                f"could not take the lock {name!r} in Redis: {error}"
            ) from error
        return token if taken else None

    def release(self, token: LockToken) -> None:
        try:
            self._release(keys=[self._prefix + token.name], args=[token.value])
        except REDIS_ERRORS as error:
            raise StorageUnavailable(
                f"could not release the lock {token.name!r} in Redis: {error}"
            ) from error
