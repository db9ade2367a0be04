"""The Cache port on Redis (a single server, TLS, or a Redis Cluster)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import redis

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import RedisLike, cache_unavailable_on_error
from logistic.adapters.redis_commands import direct_commands
from logistic.adapters.redis_fence import fence_key
from logistic.settings import DEFAULT_REDIS_PREFIX


class RedisCache:
    """Keys live under `prefix`; every driver failure becomes CacheUnavailable.

    On a single server the commands go out through DirectCommands (a cache miss
    stores its body here); a cluster's client routes them by key.
    """

    def __init__(
        self,
        client: RedisLike,
        prefix: str = DEFAULT_REDIS_PREFIX,
        breaker: RedisBreaker | None = None,
        fenced: bool = False,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker
        self._direct = direct_commands(client) if isinstance(client, redis.Redis) else None
        # Fenced, an entry is read only while the fence holds (ports/cache_fence.py):
        # its key is read with the entries, in the same command.
        self._fence = fence_key(prefix) if fenced else None

    def get(self, key: str) -> bytes | None:
        if self._fence is not None:
            return self.get_many([key])[0]
        name = self._prefix + key
        with cache_unavailable_on_error("get", self._breaker):
            if self._direct is None:
                value = self._client.get(name)
            else:
                value = self._direct.execute("GET", name)
        if isinstance(value, str):  # a client built with decode_responses=True
            return value.encode()
        return cast(bytes | None, value)

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        name = self._prefix + key
        with cache_unavailable_on_error("set", self._breaker):
            if ttl <= timedelta(0):
                # Already expired: Redis refuses PX 0, so drop any previous value instead.
                self._delete([name])
                return
            milliseconds = max(1, math.ceil(ttl / timedelta(milliseconds=1)))
            if self._direct is None:
                self._client.set(name, value, px=milliseconds)
            else:
                self._direct.execute("SET", name, value, "PX", milliseconds)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        names = [self._prefix + key for key in keys]
        if self._fence is not None:
            names.insert(0, self._fence)
        with cache_unavailable_on_error("get many", self._breaker):
            if self._direct is None:
                # A cluster's client splits the keys by slot, one MGET per node.
                values: list[Any] = self._client.mget_nonatomic(names)  # type: ignore[union-attr]
            else:
                values = self._direct.execute("MGET", *names)
        if self._fence is not None:
            fence, *values = values
            if fence is None:
                return [None] * len(keys)
        return [value.encode() if isinstance(value, str) else value for value in values]

    def set_many(self, entries: Sequence[tuple[str, bytes, timedelta]]) -> None:
        if not entries:
            return
        with cache_unavailable_on_error("set many", self._breaker):
            pipeline = self._client.pipeline(transaction=False)
            for key, value, ttl in entries:
                if ttl <= timedelta(0):
                    pipeline.delete(self._prefix + key)
                else:
                    milliseconds = max(1, math.ceil(ttl / timedelta(milliseconds=1)))
                    pipeline.set(self._prefix + key, value, px=milliseconds)
            pipeline.execute()

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        with cache_unavailable_on_error("delete", self._breaker):
            self._delete([self._prefix + key for key in keys])

    def _delete(self, names: list[str]) -> None:
        if self._direct is None:
            # A cluster's client splits the keys by slot.
            self._client.delete(*names)
        else:
            self._direct.execute("DEL", *names)
