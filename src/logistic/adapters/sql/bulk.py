"""Whole batches of new shipments inserted below SQLAlchemy, at the driver.

At a million orders SQLAlchemy's per-value work (parameter dictionaries, the
UtcDateTime conversion of every timestamp) costs more than the database does.
These rows are built in the form the columns store, naive UTC text for
UtcDateTime (as SQLAlchemy writes it on SQLite, and as MariaDB parses it), and
go to the DBAPI cursor. On SQLite: one executemany of a prepared statement.

On MariaDB with PyMySQL, executemany escapes each value through a chain of
generic converters, which took 60% of a seeding worker's time (profiled): the
rows' values are only ints, text and NULL, so they are written as literals here,
text quoted by the driver's own escape (which follows the server's
NO_BACKSLASH_ESCAPES mode), into multi-row INSERTs of up to a megabyte.
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
# PyMySQL's own bound for a multi-row INSERT, in characters here: at most 4 MB of
# UTF-8, under every server's default max_allowed_packet.
_MAX_STATEMENT = 1_024_000
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
    insert = f"INSERT INTO {quote(table.name)} ({names}) VALUES "  # noqa: S608
    if connection.dialect.driver == "pymysql":
        _insert_literals(connection, insert, rows)
        return
    # Only schema identifiers go into the text; every value is bound by the driver.
    connection.exec_driver_sql(f"{insert}({markers})", rows)


def _insert_literals(
    connection: Connection, insert: str, rows: Sequence[tuple[object, ...]]
) -> None:
    """`insert` followed by `rows` as escaped literals, in statements of at most
    _MAX_STATEMENT characters."""
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    # The method PyMySQL's own executemany quotes each value with (it follows the
    # server's NO_BACKSLASH_ESCAPES mode); called for text only.
    escape = dbapi.escape

    def literal(value: object) -> str:
        if value is None:
            return "NULL"
        if type(value) is int:
            return str(value)
        if type(value) is str:
            return str(escape(value))
        raise TypeError(f"no literal for {type(value).__name__} {value!r}")

    # No parameters: the driver sends the text as it is (a % in the data stays a %).
    execute = connection.execution_options(no_parameters=True).exec_driver_sql
    values: list[str] = []
    size = len(insert)
    for row in rows:
        text = "(" + ",".join(map(literal, row)) + ")"
        if values and size + len(text) + 1 > _MAX_STATEMENT:
            execute(insert + ",".join(values))
            values, size = [], len(insert)
        values.append(text)
        size += len(text) + 1
    execute(insert + ",".join(values))
