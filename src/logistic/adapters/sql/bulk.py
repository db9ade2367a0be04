"""Whole batches of new shipments inserted through the driver's own executemany.

At a million orders SQLAlchemy's per-value work (parameter dictionaries, the
UtcDateTime conversion of every timestamp) costs more than the database does.
These rows are built in the form the columns store, naive UTC text for
UtcDateTime (as SQLAlchemy writes it on SQLite, and as MariaDB parses it), and
go to the DBAPI cursor with one executemany per table: on SQLite one prepared
statement, with PyMySQL multi-row INSERTs of up to a megabyte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from logistic.adapters.sql.status_counts import add_to_counts, stored
from logistic.adapters.sql.tables import orders, recipients, tracking_events
from logistic.domain.model import Shipment

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_UTC_OFFSET = "+00:00"

_RECIPIENT_COLUMNS = ("id", "name", "phone", "address")
_ORDER_COLUMNS = (
    "sno",
    "recipient_id",
    "origin_id",
    "destination_id",
    "created_at",
    "promised_by",
    "current_status",
    "current_location_id",
    "last_event_at",
    "delivered_at",
    "event_count",
)
_EVENT_COLUMNS = ("order_sno", "id", "status", "location_id", "occurred_at", "note")


def insert_in_bulk(
    connection: Connection, shipments: Sequence[Shipment], first_event_id: int
) -> None:
    """Insert whole shipments (recipients, orders, events) inside the caller's transaction.

    The status counts grow by the new orders' current statuses in it too.

    The snos and recipient ids are given, and the events are numbered from
    `first_event_id` in order (see event_ids); all of them were reserved from the
    sequences table.
    """
    recipient_rows: list[tuple[object, ...]] = []
    order_rows: list[tuple[object, ...]] = []
    event_rows: list[tuple[object, ...]] = []
    for shipment, ids in event_ids(shipments, first_event_id):
        recipient = shipment.recipient
        recipient_rows.append((recipient.id, recipient.name, recipient.phone, recipient.address))
        order_rows.append(_order_values(shipment))
        sno = shipment.sno
        event_rows.extend(
            (
                sno,
                event_id,
                event.status.value,
                event.location_id,
                _stored(event.occurred_at),
                event.note,
            )
            for event_id, event in zip(ids, shipment.events, strict=True)
        )
    _execute_many(connection, recipients, _RECIPIENT_COLUMNS, recipient_rows)
    _execute_many(connection, orders, _ORDER_COLUMNS, order_rows)
    _execute_many(connection, tracking_events, _EVENT_COLUMNS, event_rows)
    add_to_counts(connection, Counter(stored(shipment.current_status) for shipment in shipments))


def event_ids(
    shipments: Sequence[Shipment], first_event_id: int
) -> Iterator[tuple[Shipment, range]]:
    """Each shipment with the ids of its events: consecutive, from `first_event_id`."""
    next_id = first_event_id
    for shipment in shipments:
        count = len(shipment.events)
        yield shipment, range(next_id, next_id + count)
        next_id += count


def _order_values(shipment: Shipment) -> tuple[object, ...]:
    current = shipment.current_status
    last_event_at = shipment.last_event_at
    delivered_at = shipment.delivered_at
    return (
        shipment.sno,
        shipment.recipient.id,
        shipment.origin_id,
        shipment.destination_id,
        _stored(shipment.created_at),
        _stored(shipment.promised_by),
        None if current is None else current.value,
        shipment.current_location_id,
        None if last_event_at is None else _stored(last_event_at),
        None if delivered_at is None else _stored(delivered_at),
        len(shipment.events),
    )


def _stored(at: datetime) -> str:
    """`at` as a UtcDateTime column holds it: naive UTC text, always with microseconds.

    Shipment and TrackingEvent keep every instant in UTC, so the ISO text ends in
    +00:00, which is cut off (cheaper than a naive copy of the datetime).
    """
    text = at.isoformat(" ", "microseconds")
    if not text.endswith(_UTC_OFFSET):
        raise ValueError(f"not a UTC instant: {text}")
    return text[: -len(_UTC_OFFSET)]


def _execute_many(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
) -> None:
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[column].name) for column in columns)
    markers = ", ".join(_MARKERS[connection.dialect.paramstyle] for _ in columns)
    # Only schema identifiers go into the text; every value is bound by the driver.
    statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"  # noqa: S608
    connection.exec_driver_sql(statement, rows)
