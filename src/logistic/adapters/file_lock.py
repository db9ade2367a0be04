"""Leases in files of one directory: the embedded default lock, for the processes of one machine.

Each name has a file holding the owner's token and the lease's end. A process
takes an exclusive flock on the file only to read and rewrite it, so the
check-and-set is atomic and a crashed process never keeps the flock; the
lease itself ends by its expiry. The file is emptied, never deleted, on release:
deleting a file others may be about to lock would let two of them lock different files.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from logistic.domain.errors import StorageUnavailable
from logistic.ports.clock import Clock
from logistic.ports.lock import LockToken, check_lock_name, ttl_milliseconds


class FileLock:
    """Leases as files under `directory` (created when missing), expiring by `clock`."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self._directory = directory
        self._clock = clock

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        check_lock_name(name)
        ttl_milliseconds(ttl)
        with self._locked(name) as descriptor:
            now = self._clock.now()
            holder = _read(descriptor)
            if holder is not None and holder[1] > now:
                return None
            token = LockToken(name, secrets.token_hex(16))
            _write(descriptor, {"token": token.value, "expires_at": (now + ttl).isoformat()})
            return token

    def release(self, token: LockToken) -> None:
        check_lock_name(token.name)
        with self._locked(token.name) as descriptor:
            holder = _read(descriptor)
            if holder is not None and holder[0] == token.value:
                _write(descriptor, None)

    @contextmanager
    def _locked(self, name: str) -> Iterator[int]:
        path = self._directory / f"{name}.lock"
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise StorageUnavailable(f"could not open the lock file {path}: {error}") from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield descriptor
        except OSError as error:
            raise StorageUnavailable(f"could not use the lock file {path}: {error}") from error
        finally:
            os.close(descriptor)  # also drops the flock


def _read(descriptor: int) -> tuple[str, datetime] | None:
    """The holder's token and lease end; None for an empty or unreadable (half-written) file."""
    os.lseek(descriptor, 0, os.SEEK_SET)
    content = b""
    while chunk := os.read(descriptor, 4096):
        content += chunk
    try:
        holder = json.loads(content)
        return str(holder["token"]), datetime.fromisoformat(holder["expires_at"])
    except (ValueError, KeyError, TypeError):
        return None


def _write(descriptor: int, holder: dict[str, str] | None) -> None:
    # No fsync: after a power loss no holder is alive, so a lost lease is harmless.
    content = json.dumps(holder).encode() if holder is not None else b""
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, content, 0)
