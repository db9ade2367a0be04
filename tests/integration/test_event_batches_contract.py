"""ShipmentRepository.append_events, on every back end (and its counts and rows on SQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from attrs import evolve
from sqlalchemy import select

from logistic.adapters.sql.repository import load_shipment
from logistic.adapters.sql.tables import orders
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import Locked, NewEvent
from tests.integration.sql_backends import Backend
from tests.integration.test_shipment_repository_contract import (
    AWKWARD_TEXT,
    NOW,
    created,
    new_shipment,
)
from tests.integration.test_status_counts import counted_orders, stored_counts

PR, IT, OFD, D = (
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
)


def later(shipment: Shipment, status: Status, minutes: int, location_id: int = 5) -> TrackingEvent:
    last = shipment.events[-1].occurred_at
    return TrackingEvent(status, location_id, last + timedelta(minutes=minutes), note=f"{minutes}")


def stored(backend: Backend, count: int) -> list[Shipment]:
    return backend.shipments.add_many([new_shipment(created()) for _ in range(count)])


def test_the_events_decided_are_appended_numbered_and_in_order(shipment_backend: Backend) -> None:
    first, second, untouched = stored(shipment_backend, 3)
    seen: list[Locked] = []

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        seen.append(locked)
        one, two = locked.shipments[first.sno], locked.shipments[second.sno]
        return {
            first.sno: [NewEvent(later(one, PR, 1)), NewEvent(later(one, IT, 2))],
            second.sno: [NewEvent(later(two, PR, 3))],
        }

    updated = shipment_backend.shipments.append_events(
        [second.sno, first.sno, 10**12, 0], [], decide
    )

    assert set(seen[-1].shipments) == {first.sno, second.sno}
    assert seen[-1].shipments[first.sno] == first
    assert seen[-1].claims == {}
    assert set(updated) == {first.sno, second.sno}
    assert updated[first.sno].statuses == (Status.CREATED, PR, IT)
    ids = [event.id for event in updated[first.sno].events]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert updated[first.sno].events[-1].note == "2"
    for sno, shipment in updated.items():
        assert shipment_backend.shipments.get(sno) == shipment
        assert shipment_backend.shipments.event_count(sno) == len(shipment.events)
    assert shipment_backend.shipments.get(untouched.sno) == untouched


def test_claims_are_stored_with_their_events_and_given_to_the_next_batch(
    shipment_backend: Backend,
) -> None:
    (shipment,) = stored(shipment_backend, 1)
    claim = WriteClaim("a" * 64, "f" * 64, NOW)

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        found = locked.shipments[shipment.sno]
        return {shipment.sno: [NewEvent(later(found, PR, 1), claim)]}

    shipment_backend.shipments.append_events([shipment.sno], [claim.key], decide)
    assert shipment_backend.shipments.claim(claim.key) == claim

    seen: list[Locked] = []
    nothing = shipment_backend.shipments.append_events(
        [shipment.sno], [claim.key, "b" * 64], lambda locked: seen.append(locked) or {}
    )

    assert nothing == {}
    assert seen[0].claims == {claim.key: claim}
    assert len(seen[0].shipments[shipment.sno].events) == 2


def test_nothing_decided_writes_nothing(shipment_backend: Backend) -> None:
    (shipment,) = stored(shipment_backend, 1)

    assert shipment_backend.shipments.append_events([shipment.sno], [], lambda _: {}) == {}
    assert shipment_backend.shipments.append_events([], [], lambda _: {}) == {}
    assert (
        shipment_backend.shipments.append_events([shipment.sno], [], lambda _: {shipment.sno: []})
        == {}
    )
    assert shipment_backend.shipments.get(shipment.sno) == shipment


def test_rows_snapshots_and_counts_follow_a_batch(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    shipments = stored(sql_shipment_backend, 4)

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        plan: dict[int, list[NewEvent]] = {}
        for index, shipment in enumerate(locked.shipments.values()):
            # 0: delivered; 1: in transit at two places; 2: received at its own place; 3: none.
            steps = [[PR, IT, OFD, D], [PR, IT, IT], [PR], []][index]
            plan[shipment.sno] = [
                NewEvent(later(shipment, status, step + 1, location_id=2 + step))
                for step, status in enumerate(steps)
            ]
        return plan

    updated = sql_shipment_backend.shipments.append_events(
        [shipment.sno for shipment in shipments], [], decide
    )

    assert len(updated) == 3
    assert stored_counts(engine) == counted_orders(engine)
    with engine.connect() as connection:
        for sno, shipment in updated.items():
            assert load_shipment(connection, sno) == shipment
            row = connection.execute(select(orders).where(orders.c.sno == sno)).one()
            last = shipment.events[-1]
            assert (row.current_status, row.current_location_id) == (last.status, last.location_id)
            assert row.last_event_at == last.occurred_at
            assert row.event_count == len(shipment.events)
            assert row.delivered_at == (last.occurred_at if last.status is D else None)


def test_any_note_is_stored_as_given(shipment_backend: Backend) -> None:
    """Quotes, backslashes, % and placeholders, control characters: on MariaDB a batch's
    rows are written as escaped literals, and no note may change, in its event's row or
    in its order's snapshot."""
    shipments = stored(shipment_backend, len(AWKWARD_TEXT))
    notes = dict(zip([shipment.sno for shipment in shipments], AWKWARD_TEXT, strict=True))
    claims = {sno: WriteClaim(f"{sno:064d}", "f" * 64, NOW) for sno in notes}

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        return {
            sno: [NewEvent(evolve(later(shipment, PR, 1), note=notes[sno]), claims[sno])]
            for sno, shipment in locked.shipments.items()
        }

    updated = shipment_backend.shipments.append_events(
        list(notes), [claim.key for claim in claims.values()], decide
    )

    assert set(updated) == set(notes)
    for sno, note in notes.items():
        found = shipment_backend.shipments.get(sno)
        assert found == updated[sno]
        assert found.events[-1].note == note
        assert shipment_backend.shipments.claim(claims[sno].key) == claims[sno]
    if shipment_backend.engine is not None:  # the tables, past the snapshot
        with shipment_backend.engine.connect() as connection:
            for sno in notes:
                assert load_shipment(connection, sno) == updated[sno]
