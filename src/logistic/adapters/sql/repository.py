"""Shipments and logistics centers in a relational database (SQLAlchemy Core)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar

from attrs import evolve
from sqlalchemy import (
    Column,
    Row,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import Pool, PoolProxiedConnection

from logistic.adapters.sql.bulk import event_ids, insert_in_bulk
from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import deadlocked, storage_errors
from logistic.adapters.sql.snapshot import STATUSES, from_snapshot, snapshot_text
from logistic.adapters.sql.snapshot import utc as _utc
from logistic.adapters.sql.status_counts import add_to_counts, make_places, moved, place, stored
from logistic.adapters.sql.tables import (
    event_claims,
    locations,
    orders,
    recipients,
    sequences,
    tracking_events,
)
from logistic.domain.errors import (
    ConcurrentUpdate,
    LocationNotFound,
    ShipmentNotFound,
)
from logistic.domain.model import Location, Recipient, Region, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import NewShipment

SNO_SEQUENCE = "orders.sno"
RECIPIENT_SEQUENCE = "recipients.id"
EVENT_SEQUENCE = "tracking_events.id"
# Both MariaDB and SQLite keys are signed 64-bit integers.
_MAX_KEY = 2**63 - 1
# Two first allocations racing on MariaDB: the loser's INSERT of the sequence row fails;
# or MariaDB rolls a transaction back to break a deadlock. Tried again, this many in all.
_ALLOCATION_ATTEMPTS = 3
# Two syncs racing (every replica runs `logistic migrate`): the loser's INSERT fails.
_SYNC_ATTEMPTS = 3

T = TypeVar("T")

_SHIPMENT = (
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
    # table per lookup; _load sorts the few rows by event id instead.
)

# A /query miss: the order's row alone, its snapshot used when it is current (see
# adapters/sql/snapshot.py); _SHIPMENT otherwise.
_ORDER_ROW = select(
    orders.c.sno,
    orders.c.origin_id,
    orders.c.destination_id,
    orders.c.created_at,
    orders.c.promised_by,
    orders.c.recipient_id,
    orders.c.event_count,
    orders.c.snapshot,
).where(orders.c.sno == bindparam("sno"))

# The version a /query miss checks after filling the cache (built once, as _SHIPMENT:
# building the expression per call cost as much as running it).
_EVENT_COUNT = select(orders.c.event_count).where(orders.c.sno == bindparam("sno"))


def _read(engine: Engine, query: Callable[[Connection], T]) -> T:
    """`query(connection)`, tried once more on a fresh connection when the first was dead.

    A read engine lends connections without pinging them first; one the server
    has closed fails at its first query and is thrown away with the pool's older
    connections, so a second try gets a live one.
    """
    try:
        with engine.connect() as connection:
            return query(connection)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return query(connection)


def ping(engine: Engine) -> None:
    """Raise StorageUnavailable unless the database answers a trivial query."""
    with storage_errors(), engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


class SqlShipmentRepository:
    """Shipments on `engine`; reads outside a transaction on `reader`, `get` on `replica`.

    `reader` is an engine on the same database meant for single reads (see
    `create_read_engine`); `replica` may lag behind it, so only `get` uses it, and
    the checks that follow a write (`event_count`) stay on `reader`. Both default
    to the one before them.
    """

    def __init__(
        self, engine: Engine, reader: Engine | None = None, replica: Engine | None = None
    ) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._reader = reader or engine
        self._replica = replica or self._reader

    def get(self, sno: int) -> Shipment | None:
        if not 0 < sno <= _MAX_KEY:
            return None
        with storage_errors():
            found = _read_shipment(self._replica, sno)
            if found is None and self._replica is not self._reader:
                # An order created a moment ago may not have reached the replica yet.
                found = _read_shipment(self._reader, sno)
        return found

    def add_many(self, shipments: Sequence[NewShipment]) -> list[Shipment]:
        """Numbers and stores a few shipments (a /fake request) in ONE transaction.

        A commit is a log flush, the dearest statement of a small batch: numbering
        inside the writing transaction saves one. The sequence rows stay locked
        until the commit, a few milliseconds for a hundred orders (add_in_bulk,
        whose batches take longer, numbers them in a transaction of its own).
        """
        if not shipments:
            return []

        def numbered_and_written(connection: Connection) -> tuple[list[Shipment], int]:
            planned, first_event_id = _numbered(connection, shipments)
            insert_in_bulk(connection, planned, first_event_id)
            return planned, first_event_id

        planned, first_event_id = self._writing(shipments, numbered_and_written)
        return [
            _with_event_ids(shipment, ids) for shipment, ids in event_ids(planned, first_event_id)
        ]

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

    def _writing(
        self,
        shipments: Sequence[NewShipment | Shipment],
        work: Callable[[Connection], T],
        attempts: int = _ALLOCATION_ATTEMPTS,
    ) -> T:
        """`work` in a writing transaction, driver errors translated; tried again (up to
        `attempts` times) when two first allocations of a sequence raced (see `_take`),
        or when the database rolled it back whole to break a deadlock."""
        with storage_errors():
            for attempt in range(1, attempts + 1):
                try:
                    with self._writer.begin() as connection:
                        return work(connection)
                except IntegrityError as error:
                    unknown = self._unknown_locations(shipments)
                    if unknown:
                        raise LocationNotFound(min(unknown)) from error
                    if attempt == attempts:
                        raise
                except OperationalError as error:
                    if not deadlocked(error) or attempt == attempts:
                        raise
        raise AssertionError("unreachable")

    def append_event(
        self,
        sno: int,
        event: TrackingEvent,
        expected_events: int,
        claim: WriteClaim | None = None,
    ) -> Shipment:
        if not 0 < sno <= _MAX_KEY:
            raise ShipmentNotFound(sno)
        changes: dict[str, Any] = {
            "current_status": event.status.value,
            "current_location_id": event.location_id,
            "last_event_at": event.occurred_at,
            "event_count": orders.c.event_count + 1,
        }
        if event.status is Status.DELIVERED:
            changes["delivered_at"] = event.occurred_at
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(
                update(orders)
                .where(orders.c.sno == sno, orders.c.event_count == expected_events)
                .values(changes)
            )
            if result.rowcount == 0:
                if _exists(connection, sno):
                    raise ConcurrentUpdate(f"shipment {sno} changed while the event was recorded")
                raise ShipmentNotFound(sno)
            event_id = _take(connection, EVENT_SEQUENCE, tracking_events.c.id, 1)
            try:
                connection.execute(insert(tracking_events), [_event_row(sno, event_id, event)])
            except IntegrityError as error:
                # The order exists and is locked by our UPDATE: only the location can be wrong.
                raise LocationNotFound(event.location_id) from error
            if claim is not None:
                _store_claim(connection, claim, sno, event_id)
            shipment = _load(connection, sno)
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
        return shipment

    def event_count(self, sno: int) -> int | None:
        if not 0 < sno <= _MAX_KEY:
            return None
        with storage_errors():
            # A /query miss on a parcel not yet delivered or returned asks this right
            # after its read (Tracking._moved_on): read as `get` reads.
            rows = _read_rows(self._reader, _EVENT_COUNT, {"sno": sno})
        return int(rows[0][0]) if rows else None

    def claim(self, key: str) -> WriteClaim | None:
        query = select(event_claims.c.fingerprint, event_claims.c.claimed_at).where(
            event_claims.c.key_digest == key
        )
        with storage_errors():
            row = _read(self._reader, lambda connection: connection.execute(query).first())
        return None if row is None else WriteClaim(key, row.fingerprint, row.claimed_at)

    def forget_claims(self, before: datetime) -> int:
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(
                delete(event_claims).where(event_claims.c.claimed_at < before)
            )
            return int(result.rowcount)

    def count(self) -> int:
        query = select(func.count()).select_from(orders)
        with storage_errors():
            return int(
                _read(self._reader, lambda connection: connection.execute(query).scalar_one())
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


class SqlLocationCatalog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def all(self) -> tuple[Location, ...]:
        with storage_errors(), self._engine.connect() as connection:
            rows = connection.execute(select(locations).order_by(locations.c.id)).all()
        return tuple(_location(row) for row in rows)

    def sync(self, wanted: Sequence[Location]) -> None:
        by_id = {location.id: location for location in wanted}
        if not by_id:
            return
        with storage_errors():
            for attempt in range(1, _SYNC_ATTEMPTS + 1):
                try:
                    with self._writer.begin() as connection:
                        _sync_locations(connection, by_id)
                    return
                except IntegrityError:
                    # Another process inserted the same centers first: look again.
                    if attempt == _SYNC_ATTEMPTS:
                        raise


def _sync_locations(connection: Connection, by_id: dict[int, Location]) -> None:
    stored = {
        row.id: _location(row)
        for row in connection.execute(select(locations).where(locations.c.id.in_(by_id))).all()
    }
    missing = [_location_row(loc) for key, loc in by_id.items() if key not in stored]
    changed = [
        {**_location_fields(loc), "location_id": key}
        for key, loc in by_id.items()
        if key in stored and stored[key] != loc
    ]
    if missing:
        connection.execute(insert(locations), missing)
        # Their rows in place_counts, so that the first orders there find them made.
        make_places(connection, [place(None), *(key for key in by_id if key not in stored)])
    if changed:
        connection.execute(
            update(locations).where(locations.c.id == bindparam("location_id")), changed
        )


def _numbered(
    connection: Connection, shipments: Sequence[NewShipment]
) -> tuple[list[Shipment], int]:
    """The shipments with the snos and recipient ids reserved for them, and the
    first of the event ids reserved for their events (numbered in order)."""
    return _planned_from(_reserved(connection, shipments), shipments)


def _reserved(connection: Connection, shipments: Sequence[NewShipment]) -> tuple[int, ...]:
    """The first sno, recipient id and event id of the blocks reserved for `shipments`."""
    events = sum(len(new.plan.events) for new in shipments)
    return _take_many(
        connection,
        (SNO_SEQUENCE, orders.c.sno, len(shipments)),
        (RECIPIENT_SEQUENCE, recipients.c.id, len(shipments)),
        (EVENT_SEQUENCE, tracking_events.c.id, events),
    )


def _planned_from(
    reserved: tuple[int, ...], shipments: Sequence[NewShipment]
) -> tuple[list[Shipment], int]:
    first_sno, first_recipient, first_event_id = reserved
    planned = [
        _planned(first_sno + offset, first_recipient + offset, new)
        for offset, new in enumerate(shipments)
    ]
    return planned, first_event_id


def _take_many(connection: Connection, *wanted: tuple[str, Column[int], int]) -> tuple[int, ...]:
    """`_take` for several sequences: the first value of each block, in the order
    asked, in one locking read and one update (two round trips, not two per sequence)."""
    names = [name for name, _, _ in wanted]
    rows = connection.execute(
        select(sequences.c.name, sequences.c.next_value)
        .where(sequences.c.name.in_(names))
        .order_by(sequences.c.name)  # rows locked in one order by every writer
        .with_for_update()
    )
    current = {name: int(value) for name, value in rows}
    if len(current) < len(wanted):
        # A row missing (the migrations make them all since 0011; one deleted by hand):
        # the missing rows are made one by one, each after what is already stored.
        return tuple(_take(connection, name, column, count) for name, column, count in wanted)
    counts = {name: count for name, _, count in wanted}
    connection.execute(
        update(sequences)
        .where(sequences.c.name.in_(names))
        .values(
            next_value=sequences.c.next_value
            + case(counts, value=sequences.c.name, else_=literal_column("0"))
        )
    )
    return tuple(current[name] for name in names)


def _take(connection: Connection, name: str, column: Column[int], count: int) -> int:
    current = connection.execute(
        select(sequences.c.next_value).where(sequences.c.name == name).with_for_update()
    ).scalar_one_or_none()
    if current is None:
        # First allocation: start after whatever is already stored.
        current = connection.execute(select(func.coalesce(func.max(column), 0) + 1)).scalar_one()
        connection.execute(insert(sequences).values(name=name, next_value=current + count))
    else:
        connection.execute(
            update(sequences).where(sequences.c.name == name).values(next_value=current + count)
        )
    return int(current)


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


def _with_event_ids(shipment: Shipment, ids: range) -> Shipment:
    # Built directly: attrs' evolve costs several times a constructor call, and /fake
    # numbers a hundred orders' events per request.
    return evolve(
        shipment,
        events=tuple(
            TrackingEvent(event.status, event.location_id, event.occurred_at, event_id, event.note)
            for event, event_id in zip(shipment.events, ids, strict=True)
        ),
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
    rows = _read_rows(engine, _ORDER_ROW, {"sno": sno})
    if not rows:
        return None
    *order, event_count, text = rows[0]
    found = from_snapshot(order, event_count, text)
    if found is None:
        found = _shipment(_read_rows(engine, _SHIPMENT, {"sno": sno}))
    return found


def _load(connection: Connection, sno: int) -> Shipment | None:
    return _shipment(_driver_rows(connection, _SHIPMENT, {"sno": sno}))


def _shipment(rows: list[tuple[Any, ...]]) -> Shipment | None:
    """The Shipment of _SHIPMENT's rows; None without any."""
    if not rows:
        return None
    # The columns in _SHIPMENT's order: the order's and its recipient's (repeated on
    # every row), then one event's (None for an order with no event yet).
    sno, origin_id, destination_id, created_at, promised_by, recipient_id, *contact = rows[0][:9]
    return Shipment(
        sno=sno,
        recipient=Recipient(recipient_id, *contact),
        origin_id=origin_id,
        destination_id=destination_id,
        created_at=_utc(created_at),
        promised_by=_utc(promised_by),
        events=tuple(
            # By position: event id, status, location, time, note (an order with no
            # event yet has one row, its event columns None).
            TrackingEvent(STATUSES[row[10]], row[11], _utc(row[12]), row[9], row[13])
            # Ids are handed out in the order the events happened (append_event
            # only adds an event later than the last).
            for row in sorted(rows, key=itemgetter(9))
            if row[9] is not None
        ),
    )


# Each statement compiled once per dialect and driver (PyMySQL and mysqlclient mark
# parameters differently): its SQL, and the order of its parameters for a driver that
# takes them by position (None for one that takes them by name).
_COMPILED: dict[tuple[int, str, str], tuple[str, tuple[str, ...] | None]] = {}


def _read_rows(
    engine: Engine, statement: Select[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """`_driver_rows` outside any transaction, on a connection of `engine`'s pool,
    tried once more on a fresh connection when the first was dead (as `_read`).

    The pool lends the driver's connection itself: a Core Connection around it (its
    construction, its close) cost the reads of a /query miss a tenth of the workers'
    Python time under load (py-spy).
    """
    try:
        return _pooled_rows(engine, statement, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _pooled_rows(engine, statement, params)


def _pooled_rows(
    engine: Engine, statement: Select[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        # Raised as Core's `connect` raises it (the pool hands the driver's error on).
        gone = dialect.is_disconnect(error, None, None)
        raise DBAPIError.instance(
            None, None, error, dialect.loaded_dbapi.Error, connection_invalidated=gone
        ) from error
    try:
        return _cursor_rows(pooled, engine.pool, dialect, statement, params, pooled.invalidate)
    finally:
        pooled.close()  # back to the pool (an invalidated one is thrown away)


def _driver_rows(
    connection: Connection, statement: Select[Any], params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The rows of a Core `statement`, fetched on the driver's own cursor of
    `connection`, in its transaction if it has one."""
    return _cursor_rows(
        connection.connection,
        connection.engine.pool,
        connection.dialect,
        statement,
        params,
        connection.invalidate,
    )


def _cursor_rows(
    pooled: PoolProxiedConnection,
    pool: Pool,
    dialect: Dialect,
    statement: Select[Any],
    params: dict[str, Any],
    invalidate: Callable[[BaseException], None],
) -> list[tuple[Any, ...]]:
    """The rows of a Core `statement` (one built once, at import: the compiled SQL is
    kept by its id), fetched on the driver's own cursor of `pooled`, a connection of
    `pool`.

    A /query miss reads a shipment this way: Core's execution around the driver (its
    context, result and row objects, a type processor per value) cost a miss more CPU
    than the driver and the rendering together. The rows are the driver's: DATETIMEs
    naive (strings on SQLite), read by `_utc`.

    Failures are handled as Core handles them. A driver error is raised as a
    DBAPIError, so `storage_errors` and the retries treat it alike. When the server
    has gone (`connection_invalidated`), the connection is `invalidate`d and so is
    every older one in the pool, replaced at its next checkout: after a restart they
    are all dead, and a retry must not be lent another. Anything else (an interrupt
    while the reply was being read among them) invalidates the connection too, since
    what is left unread would answer the next query on it.
    """
    key = (id(statement), dialect.name, dialect.driver)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        _COMPILED[key] = (str(compiled), order)
    sql, order = _COMPILED[key]
    args: Any = params if order is None else tuple(params[name] for name in order)
    driver_connection = pooled.driver_connection
    assert driver_connection is not None  # None only once the connection is closed
    cursor = None
    try:
        cursor = driver_connection.cursor()
        cursor.execute(sql, args)
        rows = list(cursor.fetchall())
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        gone = dialect.is_disconnect(error, driver_connection, cursor)
        if gone:
            # As Core's own disconnect handling (Connection._handle_dbapi_exception).
            pool._invalidate(pooled, error, _checkin=False)
            invalidate(error)
        elif cursor is not None:
            # The connection stays; closing a cursor on a dead one raises, so only here.
            with contextlib.suppress(dialect.loaded_dbapi.Error):
                cursor.close()
        raise DBAPIError.instance(
            sql, args, error, dialect.loaded_dbapi.Error, connection_invalidated=gone
        ) from error
    except BaseException as error:
        invalidate(error)
        raise
    return rows


def _location(row: Row[Any]) -> Location:
    return Location(row.id, row.title, row.city, row.address, Region(row.region))


def _location_row(location: Location) -> dict[str, Any]:
    return {"id": location.id, **_location_fields(location)}


def _location_fields(location: Location) -> dict[str, Any]:
    return {
        "title": location.title,
        "city": location.city,
        "address": location.address,
        "region": location.region.value,
    }
