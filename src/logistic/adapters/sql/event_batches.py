"""Many shipments' events in one transaction (POST /events, `logistic ingest`).

One event at a time, every event is a commit, a locking read and update of the
event sequence row, an update of each counter row, and a read of the shipment
back: the sequence and counter rows are shared by every writer, so those writes
take turns. A batch locks its orders (in sno order, as every batch does: two
batches never wait for each other in a cycle), decides on what it found, then
reserves every event id in one update of the sequence row (a moment's transaction of
its own, see `_reserved`) and changes each counter row once, for the net moves of
all its shipments, just before its commit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

from attrs import evolve
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.batch_rows import Claimed, insert_claims, insert_events, update_orders
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.literals import driver_quote
from logistic.adapters.sql.sequences import EVENT_SEQUENCE, take
from logistic.adapters.sql.snapshot import from_snapshot
from logistic.adapters.sql.status_counts import add_to_counts, place, stored
from logistic.adapters.sql.tables import (
    MAX_KEY,
    ORDER_SNAPSHOT_COLUMNS,
    event_claims,
    orders,
    tracking_events,
)
from logistic.adapters.sql.transactions import in_transaction
from logistic.adapters.sql.webhook_outbox import insert_messages
from logistic.domain.errors import LocationNotFound
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.webhook import NewMessage
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import Decide, Locked, MessagesFor, NewEvent

# A key claimed by a concurrent batch for another shipment: the whole transaction is
# run again, this many times in all.
_CLAIM_RACES = 3

Load = Callable[[Connection, int], Shipment | None]


def append_events(
    engine: Engine,
    snos: Collection[int],
    keys: Collection[str],
    decide: Decide,
    load: Load,
    messages: MessagesFor | None = None,
) -> dict[int, Shipment]:
    """ShipmentRepository.append_events on the writer `engine`; `load(connection, sno)`
    reads a shipment from the tables when its snapshot is not current."""
    wanted = sorted({sno for sno in snos if 0 < sno <= MAX_KEY})

    def attempt(connection: Connection) -> dict[int, Shipment]:
        found = _locked(connection, wanted, load)
        claims = _claims(connection, sorted(set(keys)))
        plan = decide(Locked(found, claims))
        written = _write(connection, engine, found, plan)
        if messages is not None:
            insert_messages(connection, _messages_of(found, written, messages))
        return written

    with storage_errors():
        # in_transaction runs it again after a deadlock or a Galera certification failure.
        for tried in range(1, _CLAIM_RACES + 1):
            try:
                return in_transaction(engine, attempt)
            except IntegrityError:
                if tried == _CLAIM_RACES:
                    raise
    raise AssertionError("unreachable")


def _locked(connection: Connection, snos: Sequence[int], load: Load) -> dict[int, Shipment]:
    if not snos:
        return {}
    rows = connection.execute(
        select(*ORDER_SNAPSHOT_COLUMNS)
        .where(orders.c.sno.in_(snos))
        .order_by(orders.c.sno)
        .with_for_update()
    ).all()
    found: dict[int, Shipment] = {}
    for row in rows:
        *order, event_count, text = row
        shipment = from_snapshot(order, event_count, text) or load(connection, row.sno)
        if shipment is not None:
            found[int(row.sno)] = shipment
    return found


def _claims(connection: Connection, keys: Sequence[str]) -> dict[str, WriteClaim]:
    if not keys:
        return {}
    rows = connection.execute(
        select(
            event_claims.c.key_digest, event_claims.c.fingerprint, event_claims.c.claimed_at
        ).where(event_claims.c.key_digest.in_(keys))
    )
    return {
        row.key_digest: WriteClaim(row.key_digest, row.fingerprint, row.claimed_at) for row in rows
    }


def _write(
    connection: Connection,
    engine: Engine,
    found: Mapping[int, Shipment],
    plan: Mapping[int, Sequence[NewEvent]],
) -> dict[int, Shipment]:
    plan = {sno: plan[sno] for sno in sorted(plan) if plan[sno] and sno in found}
    total = sum(len(new) for new in plan.values())
    if not total:
        return {}
    next_id = _reserved(connection, engine, total)
    updated: dict[int, Shipment] = {}
    appended: dict[int, list[TrackingEvent]] = {}
    claims: list[Claimed] = []
    for sno, new_events in plan.items():
        numbered = appended[sno] = []
        for new in new_events:
            # Built directly: attrs' evolve costs several times more, 500 times a batch.
            event = TrackingEvent(
                new.event.status, new.event.location_id, new.event.occurred_at, next_id,
                new.event.note,
            )  # fmt: skip
            numbered.append(event)
            if new.claim is not None:
                claims.append((sno, next_id, new.claim))
            next_id += 1
        updated[sno] = evolve(found[sno], events=(*found[sno].events, *numbered))
    quote = driver_quote(connection)
    try:
        insert_events(connection, quote, appended)
    except IntegrityError as error:
        # The orders are locked: only a location (removed from the catalog) can be wrong.
        first = min(event.location_id for events in appended.values() for event in events)
        raise LocationNotFound(first) from error
    # A key taken meanwhile by a batch for another shipment: IntegrityError, and the
    # attempt is run again, when the claim is found.
    insert_claims(connection, quote, claims)
    update_orders(connection, quote, updated)
    statuses: Counter[str] = Counter()
    places: Counter[int] = Counter()
    for sno, shipment in updated.items():
        before = found[sno]
        statuses[stored(before.current_status)] -= 1
        statuses[stored(shipment.current_status)] += 1
        places[place(before.current_location_id)] -= 1
        places[place(shipment.current_location_id)] += 1
    add_to_counts(connection, statuses, places)
    return updated


def _reserved(connection: Connection, engine: Engine, count: int) -> int:
    """The first of `count` event ids, reserved in a transaction of its own.

    The batch's orders are locked already: their next writers wait for this batch's
    commit and reserve after it, so ids still grow along each history, and the
    sequence row is held for a moment instead of the whole batch (the rest of which is
    mostly Python's formatting of rows). A batch that fails leaves a gap, as add_in_bulk
    does. SQLite has one writer at a time: there, a second connection would wait on
    this one, and the ids are taken inside the batch.
    """
    if connection.dialect.name == "sqlite":
        return take(connection, EVENT_SEQUENCE, tracking_events.c.id, count)
    return in_transaction(
        engine, lambda own: take(own, EVENT_SEQUENCE, tracking_events.c.id, count)
    )


def _messages_of(
    found: Mapping[int, Shipment], written: Mapping[int, Shipment], messages: MessagesFor
) -> list[NewMessage]:
    """The webhook messages of each new event: the shipment as it stood after it."""
    made: list[NewMessage] = []
    for sno, shipment in written.items():
        for count in range(len(found[sno].events) + 1, len(shipment.events) + 1):
            made += messages(evolve(shipment, events=shipment.events[:count]))
    return made
