"""POST /query: many parcels in one call, each answered as GET /query would, in order."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, g

from logistic.domain.errors import DomainError, InvalidInput, ShipmentNotFound
from logistic.entrypoints.http.auth import query_view
from logistic.entrypoints.http.clients import request_client
from logistic.entrypoints.http.inputs import MAX_SNO, sno_from_path
from logistic.entrypoints.http.json_body import json_body
from logistic.entrypoints.http.views import JSON, container, quota_left
from logistic.services.batch_lookup import MAX_SNOS
from logistic.services.etag import untagged
from logistic.services.rendering import to_json_bytes

batch = Blueprint("batch", __name__)
batch.after_request(quota_left)

_SHOWN_CHARS = 40
_EXAMPLE = '{"snos": ["3", "17"]}'


def _snos() -> list[Any]:
    """The `snos` list of the body; InvalidInput (the whole call a 400) for anything else."""
    document = json_body(_EXAMPLE)
    if not isinstance(document, dict) or set(document) != {"snos"}:
        raise InvalidInput(f"the body must be a JSON object with one field, snos: {_EXAMPLE}")
    snos = document["snos"]
    if not isinstance(snos, list) or not 1 <= len(snos) <= MAX_SNOS:
        raise InvalidInput(f"snos must be a list of 1 to {MAX_SNOS} order numbers")
    return snos


def _shown(item: Any) -> str:
    """An item as the answer names it: a string as given, anything else as JSON text."""
    text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def sno_item(item: Any) -> int:
    """An order number given in a JSON body: a whole number, or a string of digits."""
    if type(item) is int:
        if not 1 <= item <= MAX_SNO:
            raise InvalidInput(f"sno must be between 1 and {MAX_SNO}")
        return item
    if isinstance(item, str):
        return sno_from_path(item)
    raise InvalidInput("each sno is a whole number, or a string of the digits 0-9")


def _error_item(item: Any, code: int, error: DomainError) -> bytes:
    return to_json_bytes({"sno": _shown(item), "error": {"code": code, "message": str(error)}})


@batch.post("/query")
def lookup() -> Response:
    client = request_client(container().settings().trusted_proxies)
    try:
        items = _snos()
    except InvalidInput:
        # A malformed call is one lookup against the quota, as a malformed GET is.
        g.allowance = container().throttle().admit(client)
        raise
    # Counted before anything else, each sno as one lookup: a scan is what the limit stops.
    g.allowance = container().throttle().admit(client, amount=len(items))
    view = query_view()
    parsed: list[int | bytes] = []
    for item in items:
        try:
            parsed.append(sno_item(item))
        except InvalidInput as error:
            parsed.append(_error_item(item, 400, error))
    wanted = [sno for sno in parsed if isinstance(sno, int)]
    values = container().batch_lookup().tagged_bodies(wanted, view) if wanted else {}
    parts = []
    for item, sno in zip(items, parsed, strict=True):
        if isinstance(sno, bytes):
            parts.append(sno)
            continue
        value = values[sno]
        if value is None:
            parts.append(_error_item(item, 404, ShipmentNotFound(sno)))
        else:
            parts.append(untagged(value)[1])
    # The bodies are cached JSON: joined as they are, never parsed again.
    body = b'{"data":[' + b",".join(parts) + b"]}"
    return Response(body, content_type=JSON)
