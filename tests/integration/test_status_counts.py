"""The status_counts table always equals a count of orders by current status.

Checked after every kind of write (a /fake batch, a seeding batch, events that
change the status and events that keep it, a refused write), on SQLite and
MariaDB, and under concurrent writers on MariaDB.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from logistic.adapters.sql.repository import SqlLocationCatalog, SqlShipmentRepository
from logistic.adapters.sql.status_counts import counts_as_of
from logistic.adapters.sql.tables import NO_STATUS, orders, status_counts
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.repositories import NewShipment
from tests.integration.sql_backends import Backend, empty_tables
from tests.reporting import generated_orders

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def stored_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(status_counts.c.status, status_counts.c.orders))
        return {status: int(count) for status, count in rows if count}


def counted_orders(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(func.coalesce(orders.c.current_status, NO_STATUS), func.count()).group_by(
                orders.c.current_status
            )
        )
        return {status: int(count) for status, count in rows}


def later_event(repository: SqlShipmentRepository, sno: int, status: Status) -> TrackingEvent:
    shipment = repository.get(sno)
    assert shipment is not None
    return TrackingEvent(status, 1, shipment.events[-1].occurred_at + timedelta(minutes=5))


def test_counts_follow_every_write(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)

    added = repository.add_many(generated_orders(40, seed=1, now=NOW))
    repository.add_in_bulk(generated_orders(60, seed=2, now=NOW))
    assert stored_counts(engine) == counted_orders(engine)
    assert sum(stored_counts(engine).values()) == 100

    unfinished = [s for s in added if s.current_status in (Status.IN_TRANSIT, Status.CREATED)]
    assert unfinished, "the generator always leaves some orders on the way"
    for shipment in unfinished:
        # A status change, then a second event in the same status.
        event = later_event(repository, shipment.sno, Status.EXCEPTION)
        repository.append_event(shipment.sno, event, len(shipment.events))
        event = later_event(repository, shipment.sno, Status.EXCEPTION)
        repository.append_event(shipment.sno, event, len(shipment.events) + 1)
    stale = later_event(repository, unfinished[0].sno, Status.IN_TRANSIT)
    with pytest.raises(ConcurrentUpdate):
        repository.append_event(unfinished[0].sno, stale, len(unfinished[0].events))

    assert stored_counts(engine) == counted_orders(engine)
    assert stored_counts(engine)[Status.EXCEPTION.value] >= len(unfinished)


def test_orders_created_after_the_slot_are_left_out(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    shipments = repository.add_many(generated_orders(50, seed=3, now=NOW))
    as_of = sorted(shipment.created_at for shipment in shipments)[24]

    with engine.connect() as connection:
        counted = counts_as_of(connection, as_of)

    expected = Counter(
        str(shipment.current_status) for shipment in shipments if shipment.created_at <= as_of
    )
    assert counted == expected
    assert sum(counted.values()) == 25


def test_every_order_created_after_the_slot_is_left_out_wherever_it_is(
    sql_shipment_backend: Backend,
) -> None:
    """Orders with no event yet (no place), at a place the catalog lacks (set by hand):
    each window leaves out exactly the orders a plain count of created_at finds."""
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    shipments = repository.add_many(generated_orders(60, seed=4, now=NOW))
    no_event = [
        NewShipment(
            Contact("無事件", "0912345678", "臺北市"), evolve(new.plan, events=()), new.promised_by
        )
        for new in generated_orders(8, seed=5, now=NOW)
    ]
    shipments += repository.add_many(no_event)
    with engine.begin() as connection:
        connection.execute(
            update(orders).where(orders.c.sno == shipments[0].sno).values(current_location_id=9999)
        )
    instants = sorted(shipment.created_at for shipment in shipments)

    for as_of in (instants[0] - timedelta(seconds=1), instants[20], instants[-9], instants[-1]):
        with engine.begin() as connection:
            counted = counts_as_of(connection, as_of)
            plain = connection.execute(
                select(orders.c.current_status, func.count())
                .where(orders.c.created_at <= as_of)
                .group_by(orders.c.current_status)
            ).all()
        assert counted == Counter({status: int(count) for status, count in plain}), as_of


@pytest.mark.mariadb
def test_concurrent_writers_keep_the_counts_exact(mariadb_engine: Engine) -> None:
    """Eight threads: /fake-sized batches and events on shared orders, interleaved."""
    empty_tables(mariadb_engine)
    SqlLocationCatalog(mariadb_engine).sync(LOGISTICS_CENTERS)
    repository = SqlShipmentRepository(mariadb_engine)
    shared = [
        shipment.sno
        for shipment in repository.add_many(generated_orders(30, seed=4, now=NOW))
        if not shipment.current_status or not shipment.current_status.is_terminal
    ]
    start = threading.Barrier(8)

    def work(worker: int) -> int:
        rng = random.Random(worker)
        start.wait()
        written = 0
        for round_ in range(15):
            if worker % 2:
                repository.add_many(generated_orders(10, seed=worker * 100 + round_, now=NOW))
                written += 1
                continue
            sno = rng.choice(shared)
            shipment = repository.get(sno)
            assert shipment is not None
            status = rng.choice([Status.EXCEPTION, Status.IN_TRANSIT])
            event = TrackingEvent(status, 1, shipment.events[-1].occurred_at + timedelta(minutes=1))
            try:
                repository.append_event(sno, event, len(shipment.events))
                written += 1
            except ConcurrentUpdate:
                pass
        return written

    with ThreadPoolExecutor(8) as pool:
        written = sum(pool.map(work, range(8)))

    assert written > 60
    assert stored_counts(mariadb_engine) == counted_orders(mariadb_engine)
    assert sum(stored_counts(mariadb_engine).values()) == 30 + 4 * 15 * 10


def test_counts_below_the_orders_are_reported(
    sql_shipment_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Counts changed by hand can go below what the later orders take away: say so."""
    engine = sql_shipment_backend.engine
    assert engine is not None
    shipments = SqlShipmentRepository(engine).add_many(generated_orders(10, seed=5, now=NOW))
    with engine.begin() as connection:
        connection.execute(update(status_counts).values(orders=0))
    before_all = min(shipment.created_at for shipment in shipments) - timedelta(seconds=1)

    with engine.connect() as connection:
        counted = counts_as_of(connection, before_all)

    assert counted == Counter()
    assert "status_counts disagree with the orders" in caplog.text
