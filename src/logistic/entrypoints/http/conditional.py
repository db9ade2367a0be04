"""Conditional GET of /query: the body's entity tag, `If-None-Match`, and who may keep a copy.

The tag was computed when the body was cached (services/etag.py): a hit and a 304
hash nothing. A masked body is the same for every caller without pii:read, so any
cache may keep it for a minute; a full one holds a recipient's contact and is kept
nowhere. `Vary: Authorization` keeps a shared cache from answering one view to a
caller of the other.
"""

from __future__ import annotations

from flask import Response

from logistic.services.etag import untagged
from logistic.services.tracking import View

CACHE_CONTROL = {View.MASKED: "public, max-age=60", View.FULL: "private, no-store"}
JSON = "application/json; charset=utf-8"


def validator_headers(etag: bytes, view: View) -> list[tuple[str, str]]:
    """The headers a 200 and a 304 of /query both carry."""
    return [
        ("ETag", etag.decode("ascii")),
        ("Cache-Control", CACHE_CONTROL[view]),
        ("Vary", "Authorization"),
    ]


def not_modified(if_none_match: str | None, etag: bytes) -> bool:
    """Whether `If-None-Match` names `etag`, or is `*` (RFC 9110, 13.1.2: a weak
    comparison, so `W/"…"` matches too)."""
    if not if_none_match:
        return False
    tag = etag.decode("ascii")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False


def conditional_response(value: bytes, view: View, if_none_match: str | None) -> Response:
    """The Flask answer to a GET /query of the cached `value` (tag and body): 200 with
    the body, or 304 with none when the caller holds it already."""
    etag, body = untagged(value)
    if not_modified(if_none_match, etag):
        response = Response(status=304)
    else:
        response = Response(body, content_type=JSON)
    response.headers.extend(validator_headers(etag, view))
    return response
