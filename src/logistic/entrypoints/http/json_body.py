"""A request's JSON body, bounded in size and in depth: over the size a 413, anything
that does not parse (nesting too deep for the parser included) a 400 naming an example."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from logistic.domain.errors import InvalidInput

MAX_BODY_BYTES = 16 * 1024


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose every field is given once: a repeated one is refused, not overwritten."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise InvalidInput(f"the field {key!r} is given twice")
        document[key] = value
    return document


def json_body(example: str, limit: int = MAX_BODY_BYTES) -> Any:
    """The parsed body of this request, of at most `limit` bytes; `example` shows what a
    well-formed one looks like."""
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"the body is limited to {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise RequestEntityTooLarge(f"the body is limited to {limit} bytes")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidInput(f"the body must be a JSON object such as {example}") from None
