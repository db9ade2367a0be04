"""orders.snapshot: a /query miss reads the order's row alone, and gets what the tables hold.

Each write keeps the snapshot (new orders one by one and in bulk, appended
events); one that is missing, behind the row's event count (an older release
appended an event) or not JSON is passed over for the tables. Migration 0008
gives the orders stored before it theirs.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.snapshot import MAX_EVENTS
from logistic.adapters.sql.tables import orders
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.status import Status
from tests.integration.alembic_steps import migrate_to
from tests.integration.sql_backends import Backend
from tests.integration.test_shipment_repository_contract import (
    NOW,
    created,
    generated,
    new_shipment,
)

# Free text as a driver's escape and JSON must both carry it.
TRICKY = "'quote' \"double\" back\\slash 100% ; -- \n 包裹 🚚 \\u0041"


def parts(backend: Backend) -> tuple[SqlShipmentRepository, Engine]:
    """The SQL back end's repository and engine."""
    repository, engine = backend.shipments, backend.engine
    assert isinstance(repository, SqlShipmentRepository)
    assert engine is not None
    return repository, engine


def snapshots(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as connection:
        return dict(connection.execute(select(orders.c.sno, orders.c.snapshot)).all())  # type: ignore[arg-type]


def from_tables(repository: SqlShipmentRepository, engine: Engine, sno: int) -> Shipment | None:
    """`get` with the order's snapshot taken away: what the tables hold."""
    with engine.begin() as connection:
        kept = connection.execute(select(orders.c.snapshot).where(orders.c.sno == sno)).scalar()
        connection.execute(update(orders).where(orders.c.sno == sno).values(snapshot=None))
    try:
        return repository.get(sno)
    finally:
        with engine.begin() as connection:
            connection.execute(update(orders).where(orders.c.sno == sno).values(snapshot=kept))


def tricky_shipment() -> list:  # type: ignore[type-arg]
    events = (
        created(NOW - timedelta(days=2)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=1), note=TRICKY),
    )
    return [new_shipment(*events, name=TRICKY), new_shipment()]


def test_every_write_leaves_a_snapshot_equal_to_the_tables(sql_shipment_backend: Backend) -> None:
    repository, engine = parts(sql_shipment_backend)
    one_by_one = repository.add_many([*tricky_shipment(), *generated(20, seed=5)])
    in_bulk = repository.add_in_bulk([*tricky_shipment(), *generated(20, seed=6)])
    target = one_by_one[0]
    appended = repository.append_event(
        target.sno,
        TrackingEvent(Status.IN_TRANSIT, 13, NOW - timedelta(hours=1), note=TRICKY),
        expected_events=2,
    )

    stored = snapshots(engine)
    assert len(stored) == len(one_by_one) + len(in_bulk)
    assert all(snapshot is not None for snapshot in stored.values())
    for sno in stored:
        assert repository.get(sno) == from_tables(repository, engine, sno), sno
    assert repository.get(target.sno) == appended
    assert len(json.loads(stored[target.sno] or "")["events"]) == 3


def test_an_event_appended_by_an_older_release_is_read_from_the_tables(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = parts(sql_shipment_backend)
    [stored] = repository.add_many([new_shipment(created())])
    # What a release before 0008 writes: the event (its id from the sequence) and the
    # order's row, no snapshot.
    with engine.begin() as connection:
        event_id = connection.execute(
            text("SELECT next_value FROM sequences WHERE name = 'tracking_events.id'")
        ).scalar_one()
        connection.execute(
            text(
                "UPDATE sequences SET next_value = next_value + 1 WHERE name = 'tracking_events.id'"
            )
        )
        connection.execute(
            text(
                "UPDATE orders SET event_count = event_count + 1,"
                " current_status = 'Package Received' WHERE sno = :sno"
            ),
            {"sno": stored.sno},
        )
        connection.execute(
            text(
                "INSERT INTO tracking_events (id, order_sno, status, location_id, occurred_at)"
                " VALUES (:id, :sno, 'Package Received', 2, '2026-03-14 01:00:00.000000')"
            ),
            {"id": event_id, "sno": stored.sno},
        )

    read = repository.get(stored.sno)

    assert read is not None
    assert [event.status for event in read.events] == [Status.CREATED, Status.PACKAGE_RECEIVED]
    # Its next event writes a snapshot of the whole history again.
    later = TrackingEvent(Status.IN_TRANSIT, 13, NOW)
    appended = repository.append_event(stored.sno, later, expected_events=2)
    assert len(json.loads(snapshots(engine)[stored.sno] or "")["events"]) == 3
    assert repository.get(stored.sno) == appended
    assert appended.statuses == (Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT)


@pytest.mark.parametrize(
    ("broken", "events"),
    [
        ("{", 1),
        ('{"recipient": [], "events": []}', 1),
        ('{"recipient": [], "events": []}', 0),
        ("null", 0),
        ("[]", 0),
        ('{"recipient": ["n", "p", "a"], "events": [[1, "Lost", 2, "x", null]]}', 1),
        ('{"recipient": ["n", "p", "a"], "events": [[1, "Created", 2, "x", null]]}', 1),
        ('{"recipient": "npa", "events": []}', 0),
        ('{"recipient": ["n", "p", 3], "events": []}', 0),
        ("[" * 100_000 + "]" * 100_000, 0),
    ],
)
def test_a_snapshot_that_does_not_fit_the_row_is_passed_over(
    sql_shipment_backend: Backend, broken: str, events: int
) -> None:
    repository, engine = parts(sql_shipment_backend)
    [stored] = repository.add_many([new_shipment(*[created()][:events])])
    with engine.begin() as connection:
        connection.execute(update(orders).where(orders.c.sno == stored.sno).values(snapshot=broken))

    assert repository.get(stored.sno) == stored


def test_many_read_at_once_take_the_tables_where_a_snapshot_is_missing_or_behind(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = parts(sql_shipment_backend)
    kept, missing, broken = repository.add_many([*tricky_shipment(), new_shipment(created())])
    with engine.begin() as connection:
        connection.execute(update(orders).where(orders.c.sno == missing.sno).values(snapshot=None))
        connection.execute(update(orders).where(orders.c.sno == broken.sno).values(snapshot="{"))

    found = repository.get_many([broken.sno, kept.sno, missing.sno])

    assert found == {kept.sno: kept, missing.sno: missing, broken.sno: broken}


def test_a_history_too_long_for_a_snapshot_is_read_from_the_tables(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = parts(sql_shipment_backend)
    start = NOW - timedelta(days=2)
    scans = [
        TrackingEvent(Status.IN_TRANSIT, 13, start + timedelta(minutes=minute))
        for minute in range(1, MAX_EVENTS)
    ]
    [at_most, over] = repository.add_many(
        [new_shipment(created(start), *scans), new_shipment(created(start), *scans, scans[-1])]
    )
    assert len(at_most.events) == MAX_EVENTS
    assert snapshots(engine)[at_most.sno] is not None
    assert snapshots(engine)[over.sno] is None
    assert repository.get(over.sno) == over
    # One more event takes the first over the bound too; it keeps taking events.
    later = TrackingEvent(Status.IN_TRANSIT, 13, NOW)
    appended = repository.append_event(at_most.sno, later, expected_events=MAX_EVENTS)
    assert snapshots(engine)[at_most.sno] is None
    assert repository.get(at_most.sno) == appended
    long_note = TrackingEvent(Status.IN_TRANSIT, 13, NOW, note="包" * 500)
    [noted] = repository.add_many([new_shipment(created(start), *[long_note] * 140)])
    assert snapshots(engine)[noted.sno] is None  # over MAX_CHARS
    assert repository.get(noted.sno) == noted


def test_a_snapshot_reads_its_events_in_the_order_they_happened(
    sql_shipment_backend: Backend,
) -> None:
    """SQLite's json_group_array (migration 0008) does not promise the order of its rows."""
    repository, engine = parts(sql_shipment_backend)
    [stored] = repository.add_many(generated(1, seed=9))
    assert len(stored.events) > 2
    document = json.loads(snapshots(engine)[stored.sno] or "")
    document["events"].reverse()
    with engine.begin() as connection:
        connection.execute(
            update(orders)
            .where(orders.c.sno == stored.sno)
            .values(snapshot=json.dumps(document, ensure_ascii=False))
        )

    assert repository.get(stored.sno) == stored


def _orders_stored_before_0008_get_theirs(engine: Engine) -> None:
    upgrade(engine)
    SqlLocationCatalog(engine).sync(LOGISTICS_CENTERS)
    repository = SqlShipmentRepository(engine)
    shipments = [
        *repository.add_many([*tricky_shipment(), *generated(30, seed=8)]),
        *(
            shipment
            for shipment in (
                repository.get(sno) for sno in repository.add_in_bulk(tricky_shipment())
            )
            if shipment is not None
        ),
    ]
    start = NOW - timedelta(days=2)
    scans = [
        TrackingEvent(Status.IN_TRANSIT, 13, start + timedelta(minutes=minute), note="包" * 500)
        for minute in range(1, MAX_EVENTS + 1)
    ]
    [too_long, noted] = repository.add_many(
        [new_shipment(created(start), *scans), new_shipment(created(start), *scans[:140])]
    )
    written = snapshots(engine)

    # Back to 0007 (the column goes), up again: 0008 fills it from the tables.
    migrate_to(engine, command.downgrade, "0007")
    upgrade(engine)

    refilled = snapshots(engine)
    assert set(refilled) == {shipment.sno for shipment in shipments} | {too_long.sno, noted.sno}
    # Over the bounds, events (and no aggregate cut off) or characters: none.
    assert refilled[too_long.sno] is None
    assert refilled[noted.sno] is None
    assert repository.get(too_long.sno) == too_long
    assert repository.get(noted.sno) == noted
    for shipment in shipments:
        assert refilled[shipment.sno] is not None, shipment.sno
        assert json.loads(refilled[shipment.sno] or "") == json.loads(written[shipment.sno] or "")
        assert repository.get(shipment.sno) == shipment
    # Run again on a half-filled column (a migration stopped half-way), it fills the rest.
    migrate_to(engine, command.downgrade, "0008")
    with engine.begin() as connection:
        connection.execute(
            update(orders).where(orders.c.sno <= shipments[5].sno).values(snapshot=None)
        )
        connection.execute(text("DELETE FROM alembic_version"))
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0007')"))
    upgrade(engine)
    assert snapshots(engine) == refilled


def test_sqlite_orders_stored_before_0008_get_theirs(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        _orders_stored_before_0008_get_theirs(engine)
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_mariadb_orders_stored_before_0008_get_theirs(fresh_mariadb_url: str) -> None:
    engine = create_engine(fresh_mariadb_url)
    try:
        _orders_stored_before_0008_get_theirs(engine)
    finally:
        engine.dispose()
