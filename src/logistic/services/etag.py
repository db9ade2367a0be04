"""A cached /query body's entity tag: computed once, when the body is cached, and kept
in front of it, so that a cache hit answers `ETag` and `If-None-Match` without hashing."""

from __future__ import annotations

import hashlib

# A strong entity tag in HTTP's quoted form: '"' + 32 hex digits + '"'.
TAG_LENGTH = 34


def entity_tag(body: bytes) -> bytes:
    """The strong entity tag of exactly these bytes."""
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def tagged(body: bytes) -> bytes:
    """`body` with its entity tag in front: what the cache keeps."""
    return entity_tag(body) + body


def untagged(value: bytes) -> tuple[bytes, bytes]:
    """The entity tag and the body of a value made by `tagged`."""
    return value[:TAG_LENGTH], value[TAG_LENGTH:]
