"""The CacheFence port on Redis: the key `prefix + "fence"`, read by every cache read."""

from __future__ import annotations

import secrets

from logistic.adapters.redis_breaker import RedisBreaker
from logistic.adapters.redis_client import RedisLike, cache_unavailable_on_error
from logistic.settings import DEFAULT_REDIS_PREFIX

# Extends the lease only while the fence carries the caller's generation, atomically.
_HOLD = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
    return 1
end
return 0
"""
# The cached entries' families (services/tracking.py): bodies, unknown snos, pages.
ENTRY_PATTERNS = ("query:*", "page:*")
CLEAR_LEASE_MS = 60_000
SCAN_COUNT = 1000


def fence_key(prefix: str) -> str:
    return f"{prefix}fence"


class RedisFence:
    """Unlike the entries, the fence expires at an absolute time (PXAT, on the caller's
    clock): a command delayed by a hung server cannot make it outlive its lease. The
    hosts' clocks must agree to well within a lease (NTP)."""

    def __init__(
        self,
        client: RedisLike,
        prefix: str = DEFAULT_REDIS_PREFIX,
        breaker: RedisBreaker | None = None,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._breaker = breaker
        self._fence = fence_key(prefix)

    def hold(self, generation: int, until_ms: int) -> bool:
        with cache_unavailable_on_error("fence", self._breaker):
            script = self._client.register_script(_HOLD)  # no I/O: a cluster is built lazily
            held = script(keys=[self._fence], args=[str(generation), until_ms])
        return bool(held)

    def clear(self) -> bool:
        clearing = f"{self._fence}:clearing"
        token = secrets.token_hex(8)
        with cache_unavailable_on_error("fence clear", self._breaker):
            if not self._client.set(clearing, token, nx=True, px=CLEAR_LEASE_MS):
                return False
            try:
                self._client.delete(self._fence)
                for pattern in ENTRY_PATTERNS:
                    self._delete_matching(self._prefix + pattern)
            finally:
                if _text(self._client.get(clearing)) == token:
                    self._client.delete(clearing)
        return True

    def start(self, generation: int, until_ms: int) -> None:
        with cache_unavailable_on_error("fence start", self._breaker):
            self._client.set(self._fence, str(generation), nx=True, pxat=until_ms)

    def _delete_matching(self, pattern: str) -> None:
        batch: list[bytes] = []
        for name in self._client.scan_iter(match=pattern, count=SCAN_COUNT):
            batch.append(name)
            if len(batch) >= SCAN_COUNT:
                self._client.unlink(*batch)
                batch = []
        if batch:
            self._client.unlink(*batch)


def _text(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else None if value is None else str(value)
