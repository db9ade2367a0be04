"""One item of a batch of scans (POST /events, a line of `logistic ingest`), read with
the single-event route's rules, and each item's outcome as the answer shows it."""

from __future__ import annotations

from typing import Any

from logistic.domain.errors import DomainError, InvalidInput, TransitionRefused
from logistic.entrypoints.http.batch import sno_item
from logistic.entrypoints.http.errors import status_for
from logistic.entrypoints.http.events import parse_scan
from logistic.services.idempotency import check_key
from logistic.services.ingest import Item, Outcome

FIELDS = ("sno", "status", "location_id", "occurred_at", "note", "idempotency_key")
EXAMPLE = (
    '{"sno": "3", "status": "In Transit", "location_id": 3,'
    ' "occurred_at": "2026-11-25T08:30:00+08:00"}'
)


def parse_item(value: Any) -> Item:
    """The Item of one JSON value; InvalidInput naming the first thing wrong with it."""
    if not isinstance(value, dict):
        raise InvalidInput(f"an event is a JSON object such as {EXAMPLE}")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}; the fields are {', '.join(FIELDS)}")
    if "sno" not in value:
        raise InvalidInput("sno is required")
    sno = sno_item(value["sno"])
    scan = parse_scan(value)
    if scan.occurred_at is None:
        # The items of a shipment are applied in this order: it cannot be left to arrival.
        raise InvalidInput("occurred_at is required, e.g. 2026-11-25T08:30:00+08:00")
    return Item(sno, scan, _key(value.get("idempotency_key")))


def _key(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise InvalidInput("not text")
        check_key(value)
    except InvalidInput:
        raise InvalidInput(
            "idempotency_key must be 1 to 255 printable ASCII characters, no spaces"
        ) from None
    return value


def sno_of(value: Any) -> str | None:
    """The order number of an item that may not be readable, as the answer shows it."""
    try:
        return str(sno_item(value.get("sno"))) if isinstance(value, dict) else None
    except InvalidInput:
        return None


def refused(sno: str | None, error: DomainError) -> dict[str, Any]:
    """An item that was not applied, with the single-event route's error."""
    code = status_for(error)
    detail: dict[str, Any] = {"code": code, "message": str(error)}
    if isinstance(error, TransitionRefused):
        detail["current_status"] = error.current
        detail["allowed_next"] = list(error.allowed)
    return {"sno": sno, "code": code, "error": detail}


def answered(outcome: Outcome) -> dict[str, Any]:
    """The answer's entry for an item the service decided on."""
    sno = str(outcome.sno)
    if outcome.error is not None:
        return refused(sno, outcome.error)
    entry: dict[str, Any] = {"sno": sno, "code": 201, "tracking_status": outcome.status}
    if outcome.replayed:
        entry["replayed"] = True
    return entry


def summary(entries: list[dict[str, Any]]) -> dict[str, int]:
    applied = sum(1 for entry in entries if entry["code"] == 201)
    replayed = sum(1 for entry in entries if entry.get("replayed"))
    return {
        "applied": applied - replayed,
        "replayed": replayed,
        "refused": len(entries) - applied,
    }
