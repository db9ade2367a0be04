"""POST /events: a hub's or a handheld's scans, many shipments' in one call."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from logistic.domain.access import Scope
from logistic.domain.errors import InvalidInput
from logistic.entrypoints.http.auth import caller
from logistic.entrypoints.http.event_items import answered, parse_item, refused, sno_of, summary
from logistic.entrypoints.http.json_body import json_body
from logistic.entrypoints.http.views import container, json_response
from logistic.services.ingest import MAX_ITEMS, Item
from logistic.services.rendering import to_json_bytes

ingest = Blueprint("ingest", __name__)

# Every route of this blueprint needs this scope (guarded in create_app).
SCOPE = Scope.EVENTS_WRITE
# A thousand items of the longest notes, every character escaped, fit.
MAX_BATCH_BYTES = 4 * 1024 * 1024
_EXAMPLE = (
    '{"events": [{"sno": "3", "status": "In Transit", "location_id": 3,'
    ' "occurred_at": "2026-11-25T08:30:00+08:00"}]}'
)


def _items() -> list[Any]:
    """The `events` list of the body; InvalidInput (the whole call a 400) for anything else."""
    document = json_body(_EXAMPLE, MAX_BATCH_BYTES)
    if not isinstance(document, dict) or set(document) != {"events"}:
        raise InvalidInput(f"the body must be a JSON object with one field, events: {_EXAMPLE}")
    items = document["events"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidInput(f"events must be a list of 1 to {MAX_ITEMS} events")
    return items


@ingest.post("/events")
def record_many() -> Response:
    values = _items()
    entries: list[dict[str, Any] | None] = []
    parsed: list[Item] = []
    for value in values:
        try:
            parsed.append(parse_item(value))
            entries.append(None)
        except InvalidInput as error:
            entries.append(refused(sno_of(value), error))
    outcomes = iter(container().ingest().apply(caller().name, parsed) if parsed else [])
    results = [entry if entry is not None else answered(next(outcomes)) for entry in entries]
    document = {"data": {"results": results, "summary": summary(results)}}
    return json_response(to_json_bytes(document))
