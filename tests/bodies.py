"""What the /query cache holds, as the tests read it."""

from __future__ import annotations

from logistic.services.etag import untagged


def cached_body(value: bytes | None) -> bytes | None:
    """The body of a cached /query value (it comes after its entity tag); None for None."""
    return None if value is None else untagged(value)[1]
