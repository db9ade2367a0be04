"""orders.snapshot: an order's recipient and events as one JSON text in its own row.

A /query miss read three rows from three tables (orders, recipients,
tracking_events), each on its own page: once the tables outgrow MariaDB's buffer
pool most of those pages come from disk, and reading them was most of MariaDB's
CPU for a miss (see docs/performance.md, "Where the time goes"). With the snapshot
it reads the order's row alone (see `SqlShipmentRepository.get`).

tracking_events and recipients stay the record: every write that adds an order
or an event rewrites the order's snapshot from them in the same transaction.
A snapshot is used only while it holds as many events as the row's
`event_count`, which every writer, this release's or an older one, raises with
each event it appends (events are only ever appended). One that is missing (an
order stored before migration 0008, or by an older release during a rolling
upgrade) or behind is not used: the order is read from the three tables, as
before, and its next event writes a fresh snapshot.

A history too long for one row (more than MAX_EVENTS events, or more than
MAX_CHARS characters of JSON: the lifecycle lets In Transit repeat without end)
gets no snapshot, and is read from the tables.

The recipient's contact is copied here: whoever erases or corrects a recipient,
an event or a note by hand sets the order's snapshot to NULL in the same
transaction (it is then read from the tables, and rewritten by its next event).

The text: {"recipient": [name, phone, address], "events": [[id, status,
location_id, occurred_at, note], ...]}, occurred_at naive UTC text as the
DATETIME columns are written (`stored_time`). Migration 0008 writes the same
shape with the database's own JSON functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from logistic.domain.model import Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DECODE = json.JSONDecoder().decode
# A stored status by its value: a dict lookup, cheaper than calling the Enum for each
# event of a /query miss (the repository's join read uses it too).
STATUSES = {status.value: status for status in Status}
_STORED = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
# Above either, no snapshot (migration 0008 applies the same bounds). 500 events of
# the longest notes (500 characters) stay far below MariaDB's 16 MiB MEDIUMTEXT.
MAX_EVENTS = 500
MAX_CHARS = 65_536


def stored_time(at: datetime) -> str:
    """`at` as a UtcDateTime column holds it: naive UTC text, always with microseconds.

    SQLAlchemy's format for SQLite, which MariaDB parses too. Written from the
    fields (cheaper than isoformat, which formats and cuts an offset), so it holds
    only digits and " -:." whatever the instant.
    """
    if at.tzinfo is not UTC:
        # Shipment and TrackingEvent keep every instant in UTC.
        raise ValueError(f"not a UTC instant: {at!r}")
    return _STORED % (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)


def utc(value: datetime | str) -> datetime:
    """A DATETIME as the driver reads it (naive UTC; SQLite's is text, as a snapshot's
    times are), made aware."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def snapshot_text(
    shipment: Shipment, ids: Sequence[int] | None = None, stamps: Sequence[str] | None = None
) -> str | None:
    """The snapshot of `shipment`; None when its history is too long for one. `ids` are
    its events' ids when they do not carry them yet (a new order's, numbered by the
    caller); `stamps` their times as stored text, when the caller has them already."""
    recipient = shipment.recipient
    events = shipment.events
    if len(events) > MAX_EVENTS:
        return None
    if ids is None:
        ids = [event.id for event in events]  # type: ignore[misc]
    if stamps is None:
        stamps = [stored_time(event.occurred_at) for event in events]
    text = _ENCODER.encode(
        {
            "recipient": [recipient.name, recipient.phone, recipient.address],
            "events": [
                [event_id, event.status.value, event.location_id, stamp, event.note]
                for event, event_id, stamp in zip(events, ids, stamps, strict=True)
            ],
        }
    )
    return text if len(text) <= MAX_CHARS else None


def from_snapshot(order: Sequence[Any], event_count: int, text: str | None) -> Shipment | None:
    """The Shipment of an orders row, from its snapshot; None when the snapshot is
    missing or behind `event_count` (read the tables then).

    `order` holds sno, origin_id, destination_id, created_at, promised_by and
    recipient_id as the driver read them.
    """
    if text is None:
        return None
    try:
        return _shipment(order, event_count, _DECODE(text))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        # Not written by this module: edited by hand, or cut off. The tables answer.
        return None


def _shipment(order: Sequence[Any], event_count: int, document: Any) -> Shipment | None:
    events = document["events"]
    if len(events) != event_count:
        return None
    if len(events) > 1:
        # In the order they happened: their ids were handed out so (the migration's
        # aggregate does not promise an order).
        events.sort(key=_first)
    contact = document["recipient"]
    if type(contact) is not list or not all(type(part) is str for part in contact):
        return None
    name, phone, address = contact
    sno, origin_id, destination_id, created_at, promised_by, recipient_id = order
    return Shipment(
        sno=sno,
        recipient=Recipient(recipient_id, name, phone, address),
        origin_id=origin_id,
        destination_id=destination_id,
        created_at=utc(created_at),
        promised_by=utc(promised_by),
        events=tuple(
            TrackingEvent(STATUSES[status], location_id, utc(at), event_id, note)
            for event_id, status, location_id, at, note in events
        ),
    )


def _first(event: list[Any]) -> Any:
    return event[0]
