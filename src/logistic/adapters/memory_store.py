"""In-memory object store and lock, for tests and for users of the library."""

from __future__ import annotations

import builtins
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from logistic.domain.errors import ReportNotFound
from logistic.ports.clock import Clock
from logistic.ports.lock import LockToken, check_lock_name, ttl_milliseconds
from logistic.ports.object_store import check_key, check_metadata, check_prefix


@frozen
class _StoredObject:
    body: bytes
    content_type: str
    metadata: tuple[tuple[str, str], ...]


class MemoryObjectStore:
    """A thread-safe object store in this process."""

    def __init__(self) -> None:
        self._objects: dict[str, _StoredObject] = {}
        self._lock = threading.Lock()

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        check_key(key)
        check_metadata(metadata)
        stored = _StoredObject(bytes(body), content_type, tuple(sorted(metadata.items())))
        with self._lock:
            self._objects[key] = stored

    def get(self, key: str) -> bytes:
        return self._stored(key).body

    def metadata(self, key: str) -> dict[str, str]:
        return dict(self._stored(key).metadata)

    def exists(self, key: str) -> bool:
        check_key(key)
        with self._lock:
            return key in self._objects

    def check(self) -> None:
        return None

    def list(self, prefix: str = "") -> builtins.list[str]:
        check_prefix(prefix)
        with self._lock:
            return sorted(key for key in self._objects if key.startswith(prefix))

    def _stored(self, key: str) -> _StoredObject:
        check_key(key)
        with self._lock:
            stored = self._objects.get(key)
        if stored is None:
            raise ReportNotFound(key)
        return stored


class MemoryLock:
    """Leases held in this process, expiring by `clock` (a FixedClock makes expiry testable)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._holders: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        check_lock_name(name)
        ttl_milliseconds(ttl)
        with self._lock:
            now = self._clock.now()
            holder = self._holders.get(name)
            if holder is not None and holder[1] > now:
                return None
            token = LockToken(name, secrets.token_hex(16))
            self._holders[name] = (token.value, now + ttl)
            return token

    def release(self, token: LockToken) -> None:
        with self._lock:
            holder = self._holders.get(token.name)
            if holder is not None and holder[0] == token.value:
                del self._holders[token.name]
