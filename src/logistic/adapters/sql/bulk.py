"""Whole batches of new shipments inserted below SQLAlchemy, at the driver.

When seeding, SQLAlchemy's per-value work (parameter dictionaries, the UtcDateTime
conversion of every timestamp) cost more than the database did (see
docs/performance.md, "Where the time goes"). These rows are built in the form the
columns store, naive UTC text for UtcDateTime (as SQLAlchemy writes it on SQLite,
and as MariaDB parses it), and go to the DBAPI cursor. On SQLite: one executemany
of a prepared statement.

On MariaDB, PyMySQL's executemany escapes each value through a chain of generic
converters and mysqlclient's formats each row in Python: the rows are written as
literals here instead, into multi-row INSERTs of up to a megabyte, whichever the
driver. Only free text is quoted by the driver's own escape (which follows the
server's NO_BACKSLASH_ESCAPES mode); numbers, statuses and timestamps are text
made here, which needs no escape (see `literals`). Why this stays beside Core's
executemany: docs/performance.md, "Speed tricks and what they buy".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from attrs import evolve
from sqlalchemy import Table
from sqlalchemy.engine import Connection

from logistic.adapters.sql.literals import (
    STATUS_LITERALS,
    Quote,
    driver_quote,
    execute_literals,
)
from logistic.adapters.sql.snapshot import snapshot_text, stored_time
from logistic.adapters.sql.status_counts import add_to_counts, place, stored
from logistic.adapters.sql.tables import orders, recipients, tracking_events
from logistic.domain.model import Shipment, TrackingEvent

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}

_RECIPIENT_COLUMNS = ("id", "name", "phone", "address")
ORDER_COLUMNS = (
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
    "snapshot",
)
EVENT_COLUMNS = ("order_sno", "id", "status", "location_id", "occurred_at", "note")


def insert_in_bulk(
    connection: Connection, shipments: Sequence[Shipment], first_event_id: int
) -> None:
    """Insert whole shipments (recipients, orders, events) inside the caller's transaction.

    The status and place counts grow by the new orders' in it too.

    The snos and recipient ids are given, and the events are numbered from
    `first_event_id` in order (see event_ids); all of them were reserved from the
    sequences table.
    """
    quote = driver_quote(connection)
    if quote is not None:
        _insert_literals(connection, quote, shipments, first_event_id)
    else:
        _insert_bound(connection, shipments, first_event_id)
    add_to_counts(
        connection,
        Counter(stored(shipment.current_status) for shipment in shipments),
        Counter(place(shipment.current_location_id) for shipment in shipments),
    )


def event_ids(
    shipments: Sequence[Shipment], first_event_id: int
) -> Iterator[tuple[Shipment, range]]:
    """Each shipment with the ids of its events: consecutive, from `first_event_id`."""
    next_id = first_event_id
    for shipment in shipments:
        count = len(shipment.events)
        yield shipment, range(next_id, next_id + count)
        next_id += count


def insert_head(connection: Connection, table: Table, columns: Sequence[str]) -> str:
    """The start of an INSERT of `columns` into `table`, up to VALUES."""
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(table.c[column].name) for column in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES "  # noqa: S608


# --- SQLite: every value bound by the driver ------------------------------------------------


def _insert_bound(
    connection: Connection, shipments: Sequence[Shipment], first_event_id: int
) -> None:
    recipient_rows: list[tuple[object, ...]] = []
    order_rows: list[tuple[object, ...]] = []
    event_rows: list[tuple[object, ...]] = []
    for shipment, ids in event_ids(shipments, first_event_id):
        recipient = shipment.recipient
        recipient_rows.append((recipient.id, recipient.name, recipient.phone, recipient.address))
        # Each event's time as text once, for its row and for the order's snapshot.
        stamps = [stored_time(event.occurred_at) for event in shipment.events]
        order_rows.append(_order_values(shipment, ids, stamps))
        sno = shipment.sno
        event_rows.extend(
            (sno, event_id, event.status.value, event.location_id, stamp, event.note)
            for event_id, event, stamp in zip(ids, shipment.events, stamps, strict=True)
        )
    marker = _MARKERS[connection.dialect.paramstyle]
    for table, columns, rows in (
        (recipients, _RECIPIENT_COLUMNS, recipient_rows),
        (orders, ORDER_COLUMNS, order_rows),
        (tracking_events, EVENT_COLUMNS, event_rows),
    ):
        if rows:
            # Only schema identifiers go into the text; every value is bound by the driver.
            markers = ", ".join(marker for _ in columns)
            head = insert_head(connection, table, columns)
            connection.exec_driver_sql(f"{head}({markers})", rows)


def _order_values(shipment: Shipment, ids: range, stamps: Sequence[str]) -> tuple[object, ...]:
    current = shipment.current_status
    delivered_at = shipment.delivered_at
    return (
        shipment.sno,
        shipment.recipient.id,
        shipment.origin_id,
        shipment.destination_id,
        stored_time(shipment.created_at),
        stored_time(shipment.promised_by),
        None if current is None else current.value,
        shipment.current_location_id,
        stamps[-1] if stamps else None,  # last_event_at
        None if delivered_at is None else stored_time(delivered_at),
        len(shipment.events),
        snapshot_text(shipment, ids, stamps),
    )


# --- MariaDB/MySQL (PyMySQL, mysqlclient): rows written as literals -------------------------


def _insert_literals(
    connection: Connection,
    text: Quote,
    shipments: Sequence[Shipment],
    first_event_id: int,
) -> None:
    """The rows as literals, in statements of at most MAX_STATEMENT characters.

    Only free text (the recipient, an event's note) goes through the driver's
    escape, which costs as much as the rest of the row building. Numbers are
    written with the format code d (text in their place is an error, never text
    in the statement), statuses are checked once (STATUS_LITERALS), and timestamps
    are `stored_time` text, digits and " -:." by construction.
    """
    recipient_rows: list[str] = []
    order_rows: list[str] = []
    event_rows: list[str] = []
    for shipment, ids in event_ids(shipments, first_event_id):
        recipient = shipment.recipient
        recipient_rows.append(
            f"({recipient.id:d},{text(recipient.name)},{text(recipient.phone)},"
            f"{text(recipient.address)})"
        )
        sno, events = shipment.sno, shipment.events
        stamps = [stored_time(event.occurred_at) for event in events]
        event_rows.extend(
            event_literal(sno, event_id, event, stamp, text)
            for event_id, event, stamp in zip(ids, events, stamps, strict=True)
        )
        order_rows.append(order_literal(shipment, text, ids, stamps))
    for table, columns, rows in (
        (recipients, _RECIPIENT_COLUMNS, recipient_rows),
        (orders, ORDER_COLUMNS, order_rows),
        (tracking_events, EVENT_COLUMNS, event_rows),
    ):
        execute_literals(connection, insert_head(connection, table, columns), rows)


def event_literal(sno: int, event_id: int, event: TrackingEvent, stamp: str, text: Quote) -> str:
    """The tracking_events row (EVENT_COLUMNS) of `event`, its time as `stored_time` text."""
    return (
        f"({sno:d},{event_id:d},{STATUS_LITERALS[event.status]},{event.location_id:d},"
        f"'{stamp}',{text(event.note)})"
    )


def order_literal(
    shipment: Shipment, text: Quote, ids: Sequence[int] | None, stamps: Sequence[str]
) -> str:
    """The orders row (ORDER_COLUMNS) of `shipment`, its snapshot included; `ids` and
    `stamps` as `snapshot_text` takes them."""
    recipient = shipment.recipient
    return (
        f"({shipment.sno:d},{recipient.id:d},{shipment.origin_id:d},"
        f"{shipment.destination_id:d},'{stored_time(shipment.created_at)}',"
        f"'{stored_time(shipment.promised_by)}',{_current_literals(shipment, stamps)},"
        f"{len(shipment.events):d},{text(snapshot_text(shipment, ids, stamps))})"
    )


def _current_literals(shipment: Shipment, stamps: Sequence[str]) -> str:
    """current_status, current_location_id, last_event_at and delivered_at as literals,
    given the _stored text of the shipment's event times."""
    if not shipment.events:
        return "NULL,NULL,NULL,NULL"
    last = shipment.events[-1]
    delivered_at = shipment.delivered_at
    delivered = "NULL" if delivered_at is None else f"'{stored_time(delivered_at)}'"
    return f"{STATUS_LITERALS[last.status]},{last.location_id:d},'{stamps[-1]}',{delivered}"


def with_event_ids(shipment: Shipment, ids: range) -> Shipment:
    # Each event built directly, not with attrs' evolve (several times dearer): /fake
    # numbers a hundred orders' events per request.
    return evolve(
        shipment,
        events=tuple(
            TrackingEvent(event.status, event.location_id, event.occurred_at, event_id, event.note)
            for event, event_id in zip(shipment.events, ids, strict=True)
        ),
    )
