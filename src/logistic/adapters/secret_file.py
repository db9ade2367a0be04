"""The key that signs the pages' session cookies, kept in a file when no setting gives one.

Every process of one machine reads the same file, so a cookie signed by one worker is
good in the others and after a restart. The first process to need it writes it (readable
by its owner only); the others wait for it and read it.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from logistic.domain.errors import StorageUnavailable

SECRET_BYTES = 32
_WAIT_SECONDS = 5.0


def stored_secret(path: Path, wait_seconds: float = _WAIT_SECONDS) -> str:
    """The secret in `path`, made there first when the file does not exist; StorageUnavailable
    when it cannot be, or the file holds none after `wait_seconds`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path, wait_seconds)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(SECRET_BYTES) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return _read(path, wait_seconds)
    except OSError as error:
        raise StorageUnavailable(f"cannot keep the session secret in {path}: {error}") from error


def _read(path: Path, wait_seconds: float) -> str:
    # Another process may have created the file and not yet written it.
    deadline = time.monotonic() + wait_seconds
    while True:
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 2 * SECRET_BYTES or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    if len(text) < 2 * SECRET_BYTES:
        raise StorageUnavailable(f"{path} holds no session secret; remove it to make a new one")
    return text
