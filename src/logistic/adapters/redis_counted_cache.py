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
# Fenced (ARGV[2] == '1'), the other keys are read only while the fence (KEYS[2]) holds:
# ports/cache_fence.py. With a held prefix (ARGV[3]) the first key's value is sent only
# when it does not start with it: a poller's 304 then moves no body.
_HIT_AND_GET = """
local values = {redis.call('INCR', KEYS[1])}
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local first = 2
if ARGV[2] == '1' then
    first = 3
    if redis.call('EXISTS', KEYS[2]) == 0 then
        for i = first, #KEYS do
            values[i - 1] = false
        end
        return values
    end
end
local held = ARGV[3]
for i = first, #KEYS do
    local value = false
    if held and i == first then
        local head = redis.call('GETRANGE', KEYS[i], 0, #held - 1)
        if head == held then
            value = head
        end
    end
    values[i - first + 2] = value or redis.call('GET', KEYS[i])
end
return values
"""
_HIT_AND_GET_SHA = hashlib.sha1(_HIT_AND_GET.encode(), usedforsecurity=False).hexdigest()


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
        self, counter: str, window: Window, keys: Sequence[str], held: bytes | None = None
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
                count, *values = _scripted(self._direct, names, keep, fence is not None, held)
            else:
                count, *values = _pipelined(self._client, names, keep, fence is not None, held)
        except REDIS_ERRORS as error:
            if breaker is not None:
                breaker.after(error)
            raise CacheUnavailable(f"redis cache rate limit and get failed: {error}") from error
        if breaker is not None:
            breaker.after(None)
        return int(count), [_bytes(value) for value in values]


def _scripted(
    direct: DirectCommands, names: list[str], keep: int, fenced: bool, held: bytes | None
) -> list[Any]:
    # EVALSHA itself rather than redis-py's Script, whose every call costs more than this.
    evalsha: tuple[str | int | bytes, ...] = (
        "EVALSHA", _HIT_AND_GET_SHA, len(names), *names, keep, "1" if fenced else "0"
    )  # fmt: skip
    if held:
        evalsha += (held,)
    try:
        return cast(list[Any], direct.execute(*evalsha))
    except NoScriptError:
        # A new or restarted server: it learns the script once, then EVALSHA finds it.
        direct.execute("SCRIPT", "LOAD", _HIT_AND_GET)
        return cast(list[Any], direct.execute(*evalsha))


def _pipelined(
    client: RedisLike, names: list[str], keep: int, fenced: bool, held: bytes | None
) -> list[Any]:
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
    if held and values and isinstance(values[0], bytes) and values[0].startswith(held):
        # The keys may live on other slots than the counter: no script compares there.
        values[0] = held
    return [count, *values]


def _bytes(value: bytes | str | None) -> bytes | None:
    # A client built with decode_responses=True answers str.
    return value.encode() if isinstance(value, str) else value
