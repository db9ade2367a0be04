"""Reports as files under a directory: the embedded default's object store.

Each object is a file at its key; its content type and metadata are in a
hidden sidecar `.<name>.meta.json` beside it. Both are written to a temporary
file in the same directory, synced, then renamed over the old one, the
sidecar first: a visible object always has its metadata. (A crash between the
two renames during an overwrite can leave the old body with the new metadata;
reports are written once per key, so this does not arise in practice.)
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from logistic.domain.errors import ObjectStoreError, ReportNotFound
from logistic.ports.object_store import check_key, check_metadata, check_prefix


class LocalDirectoryStore:
    """Objects as files under `root`, which must exist (the composition root creates it)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        path = self._path(key)
        check_metadata(metadata)
        sidecar = {"content_type": content_type, "metadata": dict(sorted(metadata.items()))}
        try:
            self._require_root()
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(_sidecar(path), json.dumps(sidecar).encode())
            _write_atomically(path, body)
        except OSError as error:
            raise ObjectStoreError(
                f"could not write {key!r} under {self._root}: {error}"
            ) from error

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            self._require_root()
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise ReportNotFound(key) from error
        except OSError as error:
            raise ObjectStoreError(f"could not read {key!r} under {self._root}: {error}") from error

    def metadata(self, key: str) -> dict[str, str]:
        if not self.exists(key):
            raise ReportNotFound(key)
        try:
            sidecar = json.loads(_sidecar(self._path(key)).read_bytes())
            return {str(name): str(value) for name, value in sidecar["metadata"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ObjectStoreError(f"could not read the metadata of {key!r}: {error}") from error

    def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            self._require_root()
            return path.is_file()
        except OSError as error:
            raise ObjectStoreError(
                f"could not look up {key!r} under {self._root}: {error}"
            ) from error

    def check(self) -> None:
        self._require_root()
        try:
            with tempfile.TemporaryFile(dir=self._root, prefix=".write-check."):
                pass
        except OSError as error:
            raise ObjectStoreError(
                f"report directory {self._root} is not writable: {error}"
            ) from error

    def list(self, prefix: str = "") -> builtins.list[str]:
        check_prefix(prefix)
        self._require_root()
        directory = prefix.rpartition("/")[0]
        base = self._root / directory
        keys = []
        try:
            if not base.is_dir():
                return []
            for dirpath, dirnames, filenames in os.walk(base, onerror=_raise):
                dirnames[:] = [name for name in dirnames if not name.startswith(".")]
                for name in filenames:
                    key = Path(dirpath, name).relative_to(self._root).as_posix()
                    if not name.startswith(".") and key.startswith(prefix):
                        keys.append(key)
        except OSError as error:
            raise ObjectStoreError(
                f"could not list {prefix!r} under {self._root}: {error}"
            ) from error
        return sorted(keys)

    def _path(self, key: str) -> Path:
        # Valid keys have no "..", no leading "/" and no hidden segment, so they
        # stay under the root and never name a sidecar or a temporary file.
        check_key(key)
        return self._root / key

    def _require_root(self) -> None:
        if not self._root.is_dir():
            raise ObjectStoreError(f"report directory {self._root} does not exist")


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}.meta.json")


def _raise(error: OSError) -> None:
    raise error


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), 0o644)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable, not only the file's content.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
