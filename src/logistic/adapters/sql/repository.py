"""Shipments in a relational database (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.batch_reads import read_event_counts, read_shipments
from logistic.adapters.sql.bulk import event_ids, insert_in_bulk, with_event_ids
from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.event_batches import append_events as append_in_batch
from logistic.adapters.sql.reads import connection_rows, read, read_rows
from logistic.adapters.sql.sequences import EVENT_SEQUENCE, reserve, take
from logistic.adapters.sql.snapshot import STATUSES, from_snapshot, snapshot_text, utc
from logistic.adapters.sql.status_counts import add_to_counts, moved, place, stored
from logistic.adapters.sql.tables import (
    MAX_KEY,
    ORDER_SNAPSHOT_COLUMNS,
    event_claims,
    locations,
    orders,
    recipients,
    tracking_events,
)
from logistic.adapters.sql.transactions import in_transaction
from logistic.adapters.sql.webhook_outbox import insert_messages
from logistic.domain.errors import ConcurrentUpdate, LocationNotFound, ShipmentNotFound
from logistic.domain.model import Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import Decide, MessagesFor, NewShipment
from logistic.services.metering import DEADLOCK_RETRIES, SILENT, Meter

# Two first allocations racing on MariaDB: the loser's INSERT of the sequence row fails.
# Tried again, this many in all.
_ALLOCATION_ATTEMPTS = 3

T = TypeVar("T")

# An order with its recipient and events, one row per event (one row with the event
# columns None for an order with no event yet).
SHIPMENT = (
    select(
        orders.c.sno,
        orders.c.origin_id,
        orders.c.destination_id,
        orders.c.created_at,
        orders.c.promised_by,
        recipients.c.id.label("recipient_id"),
        recipients.c.name,
        recipients.c.phone,
        recipients.c.address,
        tracking_events.c.id.label("event_id"),
        tracking_events.c.status,
        tracking_events.c.location_id,
        tracking_events.c.occurred_at,
        tracking_events.c.note,
    )
    .select_from(
        orders.join(recipients, recipients.c.id == orders.c.recipient_id).outerjoin(
            tracking_events, tracking_events.c.order_sno == orders.c.sno
        )
    )
    .where(orders.c.sno == bindparam("sno"))
    # Not sorted here: an ORDER BY over the outer join costs MariaDB a temporary
    # table per lookup; _shipment sorts the few rows by event id instead.
)

# A /query miss: the order's row alone, its snapshot used when it is current (see
# adapters/sql/snapshot.py); SHIPMENT otherwise.
_ORDER_ROW = select(*ORDER_SNAPSHOT_COLUMNS).where(orders.c.sno == bindparam("sno"))

# The version a /query miss checks after filling the cache (built once, as SHIPMENT:
# building the expression per call cost as much as running it).
_EVENT_COUNT = select(orders.c.event_count).where(orders.c.sno == bindparam("sno"))


class SqlShipmentRepository:
    """Shipments on `engine`; reads outside a transaction on `reader`, `get` on `replica`.

    `reader` is an engine on the same database meant for single reads (see
    `create_read_engine`); `replica` may lag behind it, so only `get` uses it, and
    the checks that follow a write (`event_count`) stay on `reader`. Both default
    to the one before them.
    """

    def __init__(
        self,
        engine: Engine,
        reader: Engine | None = None,
        replica: Engine | None = None,
        meter: Meter = SILENT,
    ) -> None:
        self._meter = meter
        self._engine = engine
        self._reader = reader or engine
        self._replica = replica or self._reader

    def get(self, sno: int) -> Shipment | None:
        if not 0 < sno <= MAX_KEY:
            return None
        with storage_errors():
            found = _read_shipment(self._replica, sno)
            if found is None and self._replica is not self._reader:
                # An order created a moment ago may not have reached the replica yet.
                found = _read_shipment(self._reader, sno)
        return found

    def get_many(self, snos: Sequence[int]) -> dict[int, Shipment]:
        return read_shipments(self._replica, self._reader, snos, self.get)

    def add_many(
        self, shipments: Sequence[NewShipment], messages: MessagesFor | None = None
    ) -> list[Shipment]:
        """Numbers and stores a few shipments (a /fake request) in ONE transaction.

        A commit is a log flush, the dearest statement of a small batch: numbering
        inside the writing transaction saves one. The sequence rows stay locked
        until the commit (add_in_bulk, whose batches take longer, numbers them in a
        transaction of its own).
        """
        if not shipments:
            return []

        def numbered_and_written(connection: Connection) -> list[Shipment]:
            planned, first_event_id = _numbered(connection, shipments)
            insert_in_bulk(connection, planned, first_event_id)
            stored = [with_event_ids(s, ids) for s, ids in event_ids(planned, first_event_id)]
            insert_messages(
                connection, [m for s in stored for m in messages(s)] if messages else []
            )
            return stored

        return self._writing(shipments, numbered_and_written)

    def add_in_bulk(self, shipments: Sequence[NewShipment]) -> range:
        if not shipments:
            return range(0)
        # Numbered in a transaction of its own, so that concurrent batches (one
        # process per core while seeding) hold the sequence rows only for a moment:
        # the shipments are built after its commit.
        reserved = self._writing(shipments, lambda c: _reserved(c, shipments))
        planned, first_event_id = _planned_from(reserved, shipments)
        self._writing(planned, lambda c: insert_in_bulk(c, planned, first_event_id), attempts=1)
        return range(planned[0].sno, planned[-1].sno + 1)

    def _retried(self) -> None:
        self._meter.add(DEADLOCK_RETRIES)

    def _writing(
        self,
        shipments: Sequence[NewShipment | Shipment],
        work: Callable[[Connection], T],
        attempts: int = _ALLOCATION_ATTEMPTS,
    ) -> T:
        """`work` in a writing transaction, driver errors translated; tried again (up to
        `attempts` times) when two first allocations of a sequence raced (see
        `sequences.take`). A transaction the database rolled back whole (a deadlock,
        or a Galera certification failure) is run again by `in_transaction`."""
        with storage_errors():
            for attempt in range(1, attempts + 1):
                try:
                    return in_transaction(self._engine, work, self._retried)
                except IntegrityError as error:
                    unknown = self._unknown_locations(shipments)
                    if unknown:
                        raise LocationNotFound(min(unknown)) from error
                    if attempt == attempts:
                        raise
        raise AssertionError("unreachable")

    def append_event(
        self,
        sno: int,
        event: TrackingEvent,
        expected_events: int,
        claim: WriteClaim | None = None,
        messages: MessagesFor | None = None,
    ) -> Shipment:
        if not 0 < sno <= MAX_KEY:
            raise ShipmentNotFound(sno)
        changes: dict[str, Any] = {
            "current_status": event.status.value,
            "current_location_id": event.location_id,
            "last_event_at": event.occurred_at,
            "event_count": orders.c.event_count + 1,
        }
        if event.status is Status.DELIVERED:
            changes["delivered_at"] = event.occurred_at

        def appended(connection: Connection) -> Shipment:
            result = connection.execute(
                update(orders)
                .where(orders.c.sno == sno, orders.c.event_count == expected_events)
                .values(changes)
            )
            if result.rowcount == 0:
                if _exists(connection, sno):
                    raise ConcurrentUpdate(f"shipment {sno} changed while the event was recorded")
                raise ShipmentNotFound(sno)
            event_id = take(connection, EVENT_SEQUENCE, tracking_events.c.id, 1)
            try:
                connection.execute(insert(tracking_events), [_event_row(sno, event_id, event)])
            except IntegrityError as error:
                # The order exists and is locked by our UPDATE: only the location can be wrong.
                raise LocationNotFound(event.location_id) from error
            if claim is not None:
                _store_claim(connection, claim, sno, event_id)
            shipment = load_shipment(connection, sno)
            assert shipment is not None  # we just updated it, inside this transaction
            connection.execute(
                update(orders).where(orders.c.sno == sno).values(snapshot=snapshot_text(shipment))
            )
            before = shipment.events[-2] if len(shipment.events) > 1 else None
            add_to_counts(
                connection,
                moved(stored(None if before is None else before.status), stored(event.status)),
                moved(
                    place(None if before is None else before.location_id), place(event.location_id)
                ),
            )
            insert_messages(connection, messages(shipment) if messages else [])
            return shipment

        with storage_errors():
            return in_transaction(self._engine, appended, self._retried)

    def append_events(
        self,
        snos: Collection[int],
        keys: Collection[str],
        decide: Decide,
        messages: MessagesFor | None = None,
    ) -> dict[int, Shipment]:
        load = load_shipment
        return append_in_batch(writer(self._engine), snos, keys, decide, load, messages)

    def event_count(self, sno: int) -> int | None:
        if not 0 < sno <= MAX_KEY:
            return None
        with storage_errors():
            # A /query miss on a parcel not yet delivered or returned asks this right
            # after its read (Tracking._moved_on): read as `get` reads.
            rows = read_rows(self._reader, _EVENT_COUNT, {"sno": sno})
        return int(rows[0][0]) if rows else None

    def event_counts(self, snos: Sequence[int]) -> dict[int, int]:
        return read_event_counts(self._reader, snos)

    def claim(self, key: str) -> WriteClaim | None:
        query = select(event_claims.c.fingerprint, event_claims.c.claimed_at).where(
            event_claims.c.key_digest == key
        )
        with storage_errors():
            row = read(self._reader, lambda connection: connection.execute(query).first())
        return None if row is None else WriteClaim(key, row.fingerprint, row.claimed_at)

    def forget_claims(self, before: datetime) -> int:
        query = delete(event_claims).where(event_claims.c.claimed_at < before)
        with storage_errors():
            return in_transaction(self._engine, lambda c: int(c.execute(query).rowcount))

    def count(self) -> int:
        query = select(func.count()).select_from(orders)
        with storage_errors():
            return int(
                read(self._reader, lambda connection: connection.execute(query).scalar_one())
            )

    def _unknown_locations(self, shipments: Sequence[NewShipment | Shipment]) -> set[int]:
        plans = [new.plan if isinstance(new, NewShipment) else new for new in shipments]
        wanted = {plan.origin_id for plan in plans}
        wanted |= {plan.destination_id for plan in plans}
        wanted |= {event.location_id for plan in plans for event in plan.events}
        with self._engine.connect() as connection:
            known = connection.execute(
                select(locations.c.id).where(locations.c.id.in_(wanted))
            ).scalars()
            return wanted - set(known)


def _numbered(
    connection: Connection, shipments: Sequence[NewShipment]
) -> tuple[list[Shipment], int]:
    """The shipments with the snos and recipient ids reserved for them, and the
    first of the event ids reserved for their events (numbered in order)."""
    return _planned_from(_reserved(connection, shipments), shipments)


def _reserved(connection: Connection, shipments: Sequence[NewShipment]) -> tuple[int, ...]:
    """The first sno, recipient id and event id of the blocks reserved for `shipments`."""
    return reserve(connection, len(shipments), sum(len(new.plan.events) for new in shipments))


def _planned_from(
    reserved: tuple[int, ...], shipments: Sequence[NewShipment]
) -> tuple[list[Shipment], int]:
    first_sno, first_recipient, first_event_id = reserved
    planned = [
        _planned(first_sno + offset, first_recipient + offset, new)
        for offset, new in enumerate(shipments)
    ]
    return planned, first_event_id


def _planned(sno: int, recipient_id: int, new: NewShipment) -> Shipment:
    return Shipment(
        sno=sno,
        recipient=Recipient.from_contact(recipient_id, new.recipient),
        origin_id=new.plan.origin_id,
        destination_id=new.plan.destination_id,
        created_at=new.plan.created_at,
        promised_by=new.promised_by,
        events=new.plan.events,
    )


def _event_row(sno: int, event_id: int, event: TrackingEvent) -> dict[str, Any]:
    return {
        "order_sno": sno,
        "id": event_id,
        "status": event.status.value,
        "location_id": event.location_id,
        "occurred_at": event.occurred_at,
        "note": event.note,
    }


def _store_claim(connection: Connection, claim: WriteClaim, sno: int, event_id: int) -> None:
    row = {
        "key_digest": claim.key,
        "fingerprint": claim.fingerprint,
        "claimed_at": claim.at,
        "order_sno": sno,
        "event_id": event_id,
    }
    try:
        connection.execute(insert(event_claims), [row])
    except IntegrityError as error:
        # The key is the only constraint there: another event holds it. Leaving the
        # transaction rolls back the event appended with this one.
        raise ConcurrentUpdate("an event was recorded under this Idempotency-Key") from error


def _exists(connection: Connection, sno: int) -> bool:
    found = connection.execute(select(orders.c.sno).where(orders.c.sno == sno)).first()
    return found is not None


def _read_shipment(engine: Engine, sno: int) -> Shipment | None:
    """The shipment `sno` on `engine`, from its order's snapshot when that is current,
    else from the tables (one more round trip)."""
    rows = read_rows(engine, _ORDER_ROW, {"sno": sno})
    if not rows:
        return None
    *order, event_count, text = rows[0]
    found = from_snapshot(order, event_count, text)
    if found is None:
        found = _shipment(read_rows(engine, SHIPMENT, {"sno": sno}))
    return found


def load_shipment(connection: Connection, sno: int) -> Shipment | None:
    """The shipment `sno` read from the tables on `connection`, in its transaction."""
    return _shipment(connection_rows(connection, SHIPMENT, {"sno": sno}))


def _shipment(rows: Sequence[Sequence[Any]]) -> Shipment | None:
    """The Shipment of SHIPMENT's rows; None without any."""
    if not rows:
        return None
    # The columns in SHIPMENT's order: the order's and its recipient's (repeated on
    # every row), then one event's (None for an order with no event yet).
    sno, origin_id, destination_id, created_at, promised_by, recipient_id, *contact = rows[0][:9]
    return Shipment(
        sno=sno,
        recipient=Recipient(recipient_id, *contact),
        origin_id=origin_id,
        destination_id=destination_id,
        created_at=utc(created_at),
        promised_by=utc(promised_by),
        events=tuple(
            # By position: event id, status, location, time, note (an order with no
            # event yet has one row, its event columns None).
            TrackingEvent(STATUSES[row[10]], row[11], utc(row[12]), row[9], row[13])
            # Ids are handed out in the order the events happened (append_event
            # only adds an event later than the last).
            for row in sorted(rows, key=itemgetter(9))
            if row[9] is not None
        ),
    )
