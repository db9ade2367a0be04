"""The rows a batch of scans writes (append_events): its events, their key claims and
its orders' new state, one multi-row statement per table.

On MariaDB the rows go out as literals, as `bulk` writes a seeding's: Core's
executemany ran each of 1,500 rows through SQLAlchemy's parameter processing and
then mysqlclient's formatting in Python, most of a batch's CPU (docs/performance.md,
"Batch ingest"). Free text (notes, snapshots, keys) is quoted by the driver's own
escape. On SQLite the rows are bound through Core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.engine import Connection

from logistic.adapters.sql.bulk import (
    EVENT_COLUMNS,
    ORDER_COLUMNS,
    event_literal,
    insert_head,
    order_literal,
)
from logistic.adapters.sql.literals import Quote, execute_literals
from logistic.adapters.sql.snapshot import snapshot_text, stored_time
from logistic.adapters.sql.tables import event_claims, orders, tracking_events
from logistic.domain.model import Shipment, TrackingEvent
from logistic.ports.idempotency import WriteClaim

# What a batch changes in an order's row; the other columns are sent only because an
# upsert's row must be whole.
CHANGED = (
    "current_status", "current_location_id", "last_event_at", "delivered_at",
    "event_count", "snapshot",
)  # fmt: skip
_CLAIM_COLUMNS = ("key_digest", "fingerprint", "claimed_at", "order_sno", "event_id")

Claimed = tuple[int, int, WriteClaim]
"""A claim stored with its event: the order's sno, the event's id, the claim."""


def insert_events(
    connection: Connection, quote: Quote | None, events: Mapping[int, Sequence[TrackingEvent]]
) -> None:
    """Each order's new `events` (numbered), in one statement (more beyond a megabyte)."""
    if quote is None:
        rows = [
            {
                "order_sno": sno, "id": event.id, "status": event.status.value,
                "location_id": event.location_id, "occurred_at": event.occurred_at,
                "note": event.note,
            }
            for sno, new in events.items()
            for event in new
        ]  # fmt: skip
        connection.execute(insert(tracking_events), rows)
        return
    literals = [
        event_literal(sno, _number(event), event, stored_time(event.occurred_at), quote)
        for sno, new in events.items()
        for event in new
    ]
    execute_literals(connection, insert_head(connection, tracking_events, EVENT_COLUMNS), literals)


def insert_claims(connection: Connection, quote: Quote | None, claims: Sequence[Claimed]) -> None:
    """The item keys' claims, each with its order and event."""
    if not claims:
        return
    if quote is None:
        rows = [
            {
                "key_digest": claim.key, "fingerprint": claim.fingerprint,
                "claimed_at": claim.at, "order_sno": sno, "event_id": event_id,
            }
            for sno, event_id, claim in claims
        ]  # fmt: skip
        connection.execute(insert(event_claims), rows)
        return
    literals = [
        f"({quote(claim.key)},{quote(claim.fingerprint)},'{stored_time(_utc(claim.at))}',"
        f"{sno:d},{event_id:d})"
        for sno, event_id, claim in claims
    ]
    execute_literals(connection, insert_head(connection, event_claims, _CLAIM_COLUMNS), literals)


def update_orders(
    connection: Connection, quote: Quote | None, updated: Mapping[int, Shipment]
) -> None:
    """Each order's new current status, place, times, count and snapshot, in ONE
    statement: an upsert of rows that exist (and are locked by this transaction), the
    bulk UPDATE both databases have; an executemany of UPDATEs is a round trip a row,
    and a `CASE` per column over 500 snos cost a third of the batch to build."""
    if quote is None:
        _update_bound(connection, updated)
        return
    literals = []
    for shipment in updated.values():
        stamps = [stored_time(event.occurred_at) for event in shipment.events]
        literals.append(order_literal(shipment, quote, None, stamps))
    name = connection.dialect.identifier_preparer.quote
    tail = " ON DUPLICATE KEY UPDATE " + ",".join(
        f"{name(column)}=VALUES({name(column)})" for column in CHANGED
    )
    execute_literals(connection, insert_head(connection, orders, ORDER_COLUMNS), literals, tail)


def _update_bound(connection: Connection, updated: Mapping[int, Shipment]) -> None:
    rows = [
        {
            "sno": sno,
            "recipient_id": shipment.recipient.id,
            "origin_id": shipment.origin_id,
            "destination_id": shipment.destination_id,
            "created_at": shipment.created_at,
            "promised_by": shipment.promised_by,
            "current_status": shipment.events[-1].status.value,
            "current_location_id": shipment.events[-1].location_id,
            "last_event_at": shipment.events[-1].occurred_at,
            "delivered_at": shipment.delivered_at,
            "event_count": len(shipment.events),
            "snapshot": snapshot_text(shipment),
        }
        for sno, shipment in updated.items()
    ]
    statement: Any
    if connection.dialect.name == "sqlite":
        # Imported here: a worker on MariaDB never loads SQLite's dialect (0.7 MiB).
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        on_sqlite = sqlite_insert(orders)
        statement = on_sqlite.on_conflict_do_update(
            index_elements=[orders.c.sno],
            set_={name: on_sqlite.excluded[name] for name in CHANGED},
        )
    else:
        on_mysql = mysql_insert(orders)
        statement = on_mysql.on_duplicate_key_update(
            {name: on_mysql.inserted[name] for name in CHANGED}
        )
    connection.execute(statement, rows)


def _number(event: TrackingEvent) -> int:
    if event.id is None:
        raise ValueError(f"an event to insert has no id: {event!r}")
    return event.id


def _utc(at: datetime) -> datetime:
    """`at` in UTC, as the UtcDateTime column would store it: a naive time is refused."""
    if at.utcoffset() is None:
        raise ValueError("refusing to store a naive datetime")
    return at if at.tzinfo is UTC else at.astimezone(UTC)
