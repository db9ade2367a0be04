"""The CountedCache port on Redis: a rate-limit hit and cache reads in one round trip."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, cast

import redis
from redis.exceptions import NoScriptError

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import REDIS_ERRORS, RedisLike
from logistic.adapters.redis_commands import DirectCommands, direct_commands
from logistic.adapters.redis_fence import fence_key
from logistic.adapters.redis_rate_limiter import window_counter
from logistic.domain.errors import CacheUnavailable
from logistic.ports.rate_limiter import Window
from logistic.settings import DEFAULT_REDIS_PREFIX

# RedisRateLimiter's INCR and PEXPIRE, then a GET of each other key: one command to send
# and one reply to parse, where a pipeline of the same costs the client four of each.
_HIT_AND_GET = """
local values = {redis.call('INCR', KEYS[1])}
redis.call('PEXPIRE', KEYS[1], ARGV[1])
for i = 2, #KEYS do
    values[i] = redis.call('GET', KEYS[i])
end
return values
"""
_HIT_AND_GET_SHA = hashlib.sha1(_HIT_AND_GET.encode(), usedforsecurity=False).hexdigest()
# The same, reading the other keys only while the fence (KEYS[2]) holds: ports/cache_fence.py.
_HIT_AND_GET_FENCED = """
local values = {redis.call('INCR', KEYS[1])}
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local fenced = redis.call('EXISTS', KEYS[2]) == 1
for i = 3, #KEYS do
    values[i - 1] = fenced and redis.call('GET', KEYS[i])
end
return values
"""
_HIT_AND_GET_FENCED_SHA = hashlib.sha1(
    _HIT_AND_GET_FENCED.encode(), usedforsecurity=False
).hexdigest()


class RedisCountedCache:
    """The CountedCache port: RedisRateLimiter's INCR and PEXPIRE and RedisCache's GETs
    in one round trip, with the same `prefix` as those two.

    On a single server it is one Lua script (EVALSHA), sent through DirectCommands: this
    is the cache-hit path. On a cluster, where the keys may live on different slots and
    one script may not touch them all, a pipeline.
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
        # As RedisCache's: entries are read only while the fence holds.
        self._fence = fence_key(prefix) if fenced else None

    def hit_and_get(
        self, counter: str, window: Window, keys: Sequence[str]
    ) -> tuple[int, list[bytes | None]]:
        name, keep = window_counter(self._prefix, counter, window)
        names = [name, *(self._prefix + key for key in keys)]
        fence = self._fence
        if fence is not None:
            names.insert(1, fence)
        # cache_unavailable_on_error spelled out: a generator context adds to every hit's
        # CPU (docs/performance.md).
        breaker = self._breaker
        if breaker is not None:
            breaker.before()
        try:
            if self._direct is not None:
                count, *values = _scripted(self._direct, names, keep, fence is not None)
            else:
                count, *values = _pipelined(self._client, names, keep, fence is not None)
        except REDIS_ERRORS as error:
            if breaker is not None:
                breaker.after(error)
            raise CacheUnavailable(f"redis cache rate limit and get failed: {error}") from error
        if breaker is not None:
            breaker.after(None)
        return int(count), [_bytes(value) for value in values]


def _scripted(direct: DirectCommands, names: list[str], keep: int, fenced: bool) -> list[Any]:
    # EVALSHA itself rather than redis-py's Script, whose every call costs more than this.
    sha, script = (
        (_HIT_AND_GET_FENCED_SHA, _HIT_AND_GET_FENCED)
        if fenced
        else (_HIT_AND_GET_SHA, _HIT_AND_GET)
    )
    evalsha: tuple[str | int, ...] = ("EVALSHA", sha, len(names), *names, keep)
    try:
        return cast(list[Any], direct.execute(*evalsha))
    except NoScriptError:
        # A new or restarted server: it learns the script once, then EVALSHA finds it.
        direct.execute("SCRIPT", "LOAD", script)
        return cast(list[Any], direct.execute(*evalsha))


def _pipelined(client: RedisLike, names: list[str], keep: int, fenced: bool) -> list[Any]:
    pipeline = client.pipeline(transaction=False)
    counter, *keys = names
    pipeline.incr(counter)
    pipeline.pexpire(counter, keep)
    for key in keys:
        # One GET per key, not an MGET: on a cluster the keys may live on different slots.
        pipeline.get(key)
    count, _, *values = pipeline.execute()
    if fenced:
        fence, *values = values
        if fence is None:
            values = [None] * len(values)
    return [count, *values]


def _bytes(value: bytes | str | None) -> bytes | None:
    # A client built with decode_responses=True answers str.
    return value.encode() if isinstance(value, str) else value
