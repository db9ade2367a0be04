"""Where reports are kept: a flat space of keys like `reports/2026/11/25/0800.json`."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Protocol

from logistic.domain.errors import InvalidInput

MAX_KEY_BYTES = 1024
MAX_METADATA_BYTES = 2048


def key_problem(key: str) -> str | None:
    """Why `key` is not a valid object key, or None when it is.

    A key is a relative path of non-empty segments separated by "/", none
    starting with a dot (so no "." or ".." and no hidden names), without
    backslashes or control characters, at most 1024 bytes in UTF-8.
    """
    if not key:
        return "an object key cannot be empty"
    if len(key.encode()) > MAX_KEY_BYTES:
        return f"an object key is at most {MAX_KEY_BYTES} bytes"
    if "\\" in key or any(ord(char) < 0x20 or ord(char) == 0x7F for char in key):
        return f"{key!r} holds a backslash or a control character"
    for segment in key.split("/"):
        if not segment:
            return f"{key!r} has an empty segment"
        if segment.startswith("."):
            return f"{key!r} has a segment starting with a dot"
    return None


def check_key(key: str) -> None:
    problem = key_problem(key)
    if problem is not None:
        raise InvalidInput(problem)


def check_prefix(prefix: str) -> None:
    """A prefix is "" or a valid key's beginning: full segments, then any partial last segment."""
    directory, _, rest = prefix.rpartition("/")
    if directory:
        check_key(directory)
    elif prefix.startswith("/"):
        raise InvalidInput(f"a prefix cannot start with '/' ({prefix!r})")
    if "\\" in rest or any(ord(char) < 0x20 for char in rest):
        raise InvalidInput(f"{prefix!r} holds a backslash or a control character")


def check_metadata(metadata: Mapping[str, str]) -> None:
    """Metadata names are lowercase ASCII letters, digits and "-"; values printable ASCII.

    These are the rules every S3-compatible store keeps intact through a round trip.
    """
    size = 0
    for name, value in metadata.items():
        if not name or not all(char.isascii() and (char.isalnum() or char == "-") for char in name):
            raise InvalidInput(f"metadata name {name!r} must be ASCII letters, digits and '-'")
        if name != name.lower():
            raise InvalidInput(f"metadata name {name!r} must be lowercase")
        if not all(0x20 <= ord(char) < 0x7F for char in value):
            raise InvalidInput(f"metadata {name!r} must be printable ASCII")
        size += len(name) + len(value)
    if size > MAX_METADATA_BYTES:
        raise InvalidInput(f"metadata is limited to {MAX_METADATA_BYTES} bytes")


class ObjectStore(Protocol):
    """Bytes under keys, each with a content type and a little ASCII metadata.

    Keys follow `key_problem`; an invalid key or metadata raises InvalidInput.
    Any failure of the back end (unreachable, missing bucket or directory,
    refused) raises ObjectStoreError, a StorageUnavailable.
    """

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        """Store `body` under `key`, replacing any previous object.

        Atomic: a reader sees the whole previous object or the whole new one,
        never a part; after a failure (or a crash) the previous object is intact.
        Keys are deterministic per report slot, so writing twice is harmless;
        callers that must not rewrite check `exists` first.
        """
        ...

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`, exactly as put; ReportNotFound when there are none."""
        ...

    def metadata(self, key: str) -> dict[str, str]:
        """The metadata stored with `key`, exactly as put; ReportNotFound when absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        ...

    def check(self) -> None:
        """Return when the store is there and writable; else ObjectStoreError saying what is wrong.

        Meant for start-up and readiness probes, so cheap to call every second: it
        reads, and may write a small probe object outside the key space (a name
        starting with a dot) at most once per interval of minutes.
        """
        ...

    def list(self, prefix: str = "") -> builtins.list[str]:
        """The keys that start with `prefix` (a plain string prefix), sorted."""
        ...
