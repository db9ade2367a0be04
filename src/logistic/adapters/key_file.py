"""API keys in a text file of SHA-256 digests, one key a line: `<digest> <scope>,<scope>`.

The file is read again whenever it changes, so `logistic keys create` takes
effect without a restart. It is created readable by its owner only.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from logistic.domain.access import parse_scopes
from logistic.domain.errors import DomainError, StorageUnavailable
from logistic.ports.api_keys import StoredKey

_DIGEST = re.compile(r"[0-9a-f]{64}")
_HEADER = "# logistic API keys: the SHA-256 of each key, then its scopes. Never the keys.\n"


class KeyFile:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._keys: tuple[StoredKey, ...] = ()

    def all(self) -> tuple[StoredKey, ...]:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return ()
        except OSError as error:
            raise _unreadable(error) from error
        signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if signature != self._seen:
                self._keys = self._read()
                self._seen = signature
            return self._keys

    def add(self, key: StoredKey) -> None:
        line = f"{key.digest} {','.join(sorted(key.scopes))}\n"
        self._path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            if out.tell() == 0:
                out.write(_HEADER)
            out.write(line)

    def _read(self) -> tuple[StoredKey, ...]:
        try:
            text = self._path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _unreadable(error) from error
        keys = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            keys.append(self._parse(line, number))
        return tuple(keys)

    def _parse(self, line: str, number: int) -> StoredKey:
        digest, _, scopes = line.partition(" ")
        problem = f"API keys file line {number} is not '<sha-256 hex> <scope>,<scope>'"
        if _DIGEST.fullmatch(digest) is None or not scopes.strip():
            raise StorageUnavailable(problem)
        try:
            return StoredKey(digest, parse_scopes(scopes.strip().split(",")))
        except DomainError as error:
            raise StorageUnavailable(f"{problem}: {error}") from error


def _unreadable(error: Exception) -> StorageUnavailable:
    # Clients see this message: name the problem, not the server's paths.
    reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8"
    return StorageUnavailable(f"cannot read the API keys file: {reason}")
