"""SQL string literals written without the driver's escape, for the text the bulk insert
makes itself (statuses, timestamps): only characters that mean themselves between single
quotes in every SQL mode."""

from __future__ import annotations

import re

from logistic.domain.status import Status

SAFE_TEXT = re.compile(r"[0-9A-Za-z _:.-]*")


def trusted_literal(text: str) -> str:
    """`text` between single quotes, or ValueError unless all of it is SAFE_TEXT."""
    if not SAFE_TEXT.fullmatch(text):
        raise ValueError(f"not safe as a literal without escaping: {text!r}")
    return f"'{text}'"


# Every status as a literal, checked once.
STATUS_LITERALS = {status: trusted_literal(status.value) for status in Status}
