"""POST /shipments/<sno>/events: a courier's scan, recorded through the lifecycle rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, request

from logistic.domain.access import Scope
from logistic.domain.errors import InvalidInput
from logistic.domain.status import Status
from logistic.entrypoints.http.auth import caller, query_view
from logistic.entrypoints.http.inputs import sno_from_path
from logistic.entrypoints.http.json_body import json_body
from logistic.entrypoints.http.views import container, json_response
from logistic.ports.idempotency import Answer, WriteClaim
from logistic.services.events import Scan

events = Blueprint("events", __name__)

# Every route of this blueprint needs this scope (guarded in create_app).
SCOPE = Scope.EVENTS_WRITE
MAX_NOTE_CHARS = 500
MAX_LOCATION_ID = 2**31 - 1
FIELDS = ("status", "location_id", "occurred_at", "note")
_STATUSES = ", ".join(status.value for status in Status)
# Made once: a set built for every item showed in the profile of a batch of scans.
_BY_VALUE = {status.value: status for status in Status}


def _document() -> dict[str, Any]:
    document = json_body('{"status": "In Transit", "location_id": 3}')
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object")
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}; the fields are {', '.join(FIELDS)}")
    return document


def _status(value: Any) -> Status:
    if not isinstance(value, str) or value not in _BY_VALUE:
        raise InvalidInput(f"status is required, one of: {_STATUSES}")
    return _BY_VALUE[value]


def _location_id(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= MAX_LOCATION_ID:
        raise InvalidInput("location_id is required, a whole number of at least 1")
    return value


def _occurred_at(value: Any) -> datetime | None:
    if value is None:
        return None
    problem = "occurred_at must be ISO 8601 with an offset, e.g. 2026-11-25T08:30:00+08:00"
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(problem)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(problem)
        moment.astimezone(UTC)
    except (ValueError, OverflowError):
        # Out of range in UTC: the year 1 east of Greenwich, 9999 west of it.
        raise InvalidInput(problem) from None
    return moment


def _note(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_NOTE_CHARS:
        raise InvalidInput(f"note must be text of at most {MAX_NOTE_CHARS} characters")
    return value


def parse_scan(document: dict[str, Any]) -> Scan:
    return Scan(
        status=_status(document.get("status")),
        location_id=_location_id(document.get("location_id")),
        occurred_at=_occurred_at(document.get("occurred_at")),
        note=_note(document.get("note")),
    )


@events.post("/shipments/<sno>/events")
def record(sno: str) -> Response:
    number = sno_from_path(sno)
    document = _document()
    scan = parse_scan(document)
    view = query_view()

    def act(claim: WriteClaim | None = None) -> Answer:
        recorded = container().recording().record(number, scan, claim)
        return Answer(201, recorded.bodies[view])

    key = request.headers.get("Idempotency-Key")
    if key is None:
        answer, replayed = act(), False
    else:
        canonical = json.dumps(document, sort_keys=True, ensure_ascii=False)
        answer, replayed = (
            container()
            .idempotency()
            .run(caller().name, key, f"POST /shipments/{number}/events\n{canonical}", act)
        )
    response = json_response(answer.body, answer.status)
    response.headers["Location"] = f"/query?sno={number}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
