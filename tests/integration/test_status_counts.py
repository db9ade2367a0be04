"""The status_counts and place_counts tables always equal a count of orders by
current status and by current place.

Checked after every kind of write (a /fake batch, a seeding batch, events that
change the status and events that keep it, a refused write), on SQLite and
MariaDB, and under concurrent writers on MariaDB.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from attrs import evolve
from sqlalchemy import delete, event, func, insert, select, update
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.status_counts import (
    OrderCounts,
    add_to_counts,
    counts_as_of,
    recount,
)
from logistic.adapters.sql.tables import (
    NO_PLACE,
    NO_STATUS,
    locations,
    orders,
    place_counts,
    status_counts,
)
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.repositories import NewShipment
from tests.integration.sql_backends import Backend, empty_tables
from tests.reporting import generated_orders

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def stored_counts(engine: Engine) -> dict[str | int, int]:
    """The stored counts, by status (str keys) and by place (int keys)."""
    with engine.connect() as connection:
        statuses = connection.execute(select(status_counts.c.status, status_counts.c.orders))
        places = connection.execute(select(place_counts.c.place, place_counts.c.orders))
        return {key: int(count) for key, count in [*statuses, *places] if count}


def counted_orders(engine: Engine) -> dict[str | int, int]:
    """The orders counted one by one, keyed as `stored_counts`."""
    with engine.connect() as connection:
        statuses = connection.execute(
            select(func.coalesce(orders.c.current_status, NO_STATUS), func.count()).group_by(
                orders.c.current_status
            )
        )
        places = connection.execute(
            select(func.coalesce(orders.c.current_location_id, NO_PLACE), func.count()).group_by(
                orders.c.current_location_id
            )
        )
        return {key: int(count) for key, count in [*statuses, *places]}


def later_event(
    repository: SqlShipmentRepository, sno: int, status: Status, location_id: int = 1
) -> TrackingEvent:
    shipment = repository.get(sno)
    assert shipment is not None
    return TrackingEvent(
        status, location_id, shipment.events[-1].occurred_at + timedelta(minutes=5)
    )


def test_counts_follow_every_write(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)

    added = repository.add_many(generated_orders(40, seed=1, now=NOW))
    repository.add_in_bulk(generated_orders(60, seed=2, now=NOW))
    assert stored_counts(engine) == counted_orders(engine)
    assert sum(v for k, v in stored_counts(engine).items() if isinstance(k, str)) == 100
    assert sum(v for k, v in stored_counts(engine).items() if isinstance(k, int)) == 100

    unfinished = [s for s in added if s.current_status in (Status.IN_TRANSIT, Status.CREATED)]
    assert unfinished, "the generator always leaves some orders on the way"
    for shipment in unfinished:
        # A status change, a second event in the same status at another place, and a
        # third at the same place.
        event = later_event(repository, shipment.sno, Status.EXCEPTION)
        repository.append_event(shipment.sno, event, len(shipment.events))
        event = later_event(repository, shipment.sno, Status.EXCEPTION, location_id=2)
        repository.append_event(shipment.sno, event, len(shipment.events) + 1)
        event = later_event(repository, shipment.sno, Status.IN_TRANSIT, location_id=2)
        repository.append_event(shipment.sno, event, len(shipment.events) + 2)
    stale = later_event(repository, unfinished[0].sno, Status.IN_TRANSIT)
    with pytest.raises(ConcurrentUpdate):
        repository.append_event(unfinished[0].sno, stale, len(unfinished[0].events))

    assert stored_counts(engine) == counted_orders(engine)
    assert stored_counts(engine)[2] >= len(unfinished)


def test_orders_created_after_the_slot_are_left_out(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    shipments = repository.add_many(generated_orders(50, seed=3, now=NOW))
    as_of = sorted(shipment.created_at for shipment in shipments)[24]

    with engine.connect() as connection:
        counted = counts_as_of(connection, as_of)

    kept = [shipment for shipment in shipments if shipment.created_at <= as_of]
    assert counted.by_status == Counter(str(shipment.current_status) for shipment in kept)
    assert counted.by_place == Counter(shipment.current_location_id for shipment in kept)
    assert sum(counted.by_status.values()) == sum(counted.by_place.values()) == 25


def test_every_order_created_after_the_slot_is_left_out_wherever_it_is(
    sql_shipment_backend: Backend,
) -> None:
    """Orders with no event yet (no place), at a place the catalog lacks (set by hand,
    then recounted): each window leaves out exactly the orders a plain count of
    created_at finds."""
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
    recount(engine)
    instants = sorted(shipment.created_at for shipment in shipments)

    for as_of in (instants[0] - timedelta(seconds=1), instants[20], instants[-9], instants[-1]):
        with engine.begin() as connection:
            counted = counts_as_of(connection, as_of)
            by_status, by_place = (
                connection.execute(
                    select(column, func.count())
                    .where(orders.c.created_at <= as_of)
                    .group_by(column)
                ).all()
                for column in (orders.c.current_status, orders.c.current_location_id)
            )
        assert counted.by_status == Counter({key: int(count) for key, count in by_status}), as_of
        assert counted.by_place == Counter({key: int(count) for key, count in by_place}), as_of
        assert counted.by_place[9999] == (as_of >= shipments[0].created_at)


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
    counts = stored_counts(mariadb_engine).items()
    assert sum(v for k, v in counts if isinstance(k, str)) == 30 + 4 * 15 * 10
    assert sum(v for k, v in counts if isinstance(k, int)) == 30 + 4 * 15 * 10


def test_counts_below_the_orders_are_reported(
    sql_shipment_backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """Counts changed by hand can go below what the later orders take away: say so."""
    engine = sql_shipment_backend.engine
    assert engine is not None
    shipments = SqlShipmentRepository(engine).add_many(generated_orders(10, seed=5, now=NOW))
    with engine.begin() as connection:
        connection.execute(update(status_counts).values(orders=0))
        connection.execute(update(place_counts).values(orders=0))
    before_all = min(shipment.created_at for shipment in shipments) - timedelta(seconds=1)

    with engine.connect() as connection:
        counted = counts_as_of(connection, before_all)

    assert counted == OrderCounts(Counter(), Counter())
    assert "status_counts disagree with the orders" in caplog.text
    assert "place_counts disagree with the orders" in caplog.text


def test_a_place_without_a_row_gets_one_from_the_write_that_meets_it(
    sql_shipment_backend: Backend,
) -> None:
    """A place whose row is gone (a place added to `locations` by hand has none): the
    first order to reach it makes its row."""
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    added = repository.add_many(generated_orders(12, seed=6, now=NOW))
    moving = next(s for s in added if s.current_status and not s.current_status.is_terminal)
    unused = sorted({c.id for c in LOGISTICS_CENTERS} - {s.current_location_id for s in added})
    assert unused, "the seed leaves some centers without orders"
    with engine.begin() as connection:
        connection.execute(delete(place_counts).where(place_counts.c.place == unused[0]))

    event = later_event(repository, moving.sno, Status.EXCEPTION, location_id=unused[0])
    repository.append_event(moving.sno, event, len(moving.events))

    assert stored_counts(engine)[unused[0]] == 1
    assert stored_counts(engine) == counted_orders(engine)


def test_an_orders_first_event_moves_it_from_no_place(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    [new] = generated_orders(1, seed=7, now=NOW)
    no_event = evolve(new.plan, events=())
    [waiting] = repository.add_many([NewShipment(new.recipient, no_event, new.promised_by)])
    assert stored_counts(engine) == counted_orders(engine) == {NO_STATUS: 1, NO_PLACE: 1}

    first = TrackingEvent(Status.CREATED, 3, waiting.created_at + timedelta(minutes=1))
    repository.append_event(waiting.sno, first, 0)

    assert stored_counts(engine) == counted_orders(engine) == {Status.CREATED.value: 1, 3: 1}


def test_a_new_center_has_its_row_before_any_order_is_there(
    sql_shipment_backend: Backend,
) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    catalog = SqlLocationCatalog(engine)
    new = evolve(LOGISTICS_CENTERS[0], id=99, title="新站")
    catalog.sync([*LOGISTICS_CENTERS, new])

    with engine.connect() as connection:
        rows = dict(connection.execute(select(place_counts.c.place, place_counts.c.orders)).all())
    assert rows[99] == 0
    assert rows[NO_PLACE] == 0


@pytest.mark.mariadb
def test_writers_meeting_the_same_missing_place_at_once_all_count(
    mariadb_engine: Engine,
) -> None:
    """Each writer is held just before it makes the row until all have found it
    missing: they then wait for each other's lock in turn, none is chosen to die."""
    empty_tables(mariadb_engine)
    with mariadb_engine.begin() as connection:
        connection.execute(delete(place_counts).where(place_counts.c.place == 42))
    writers = 3
    together = threading.Barrier(writers)

    def held(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("INSERT") and "place_counts" in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=5)

    statuses = [Status.CREATED.value, Status.IN_TRANSIT.value, Status.EXCEPTION.value]
    errors: list[BaseException] = []

    def write(status: str) -> None:
        try:
            with writer(mariadb_engine).begin() as connection:
                add_to_counts(connection, {status: 1}, {42: 1})
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    event.listen(mariadb_engine, "before_cursor_execute", held)
    try:
        threads = [threading.Thread(target=write, args=(status,)) for status in statuses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(mariadb_engine, "before_cursor_execute", held)

    assert errors == []
    with mariadb_engine.connect() as connection:
        count = connection.execute(
            select(place_counts.c.orders).where(place_counts.c.place == 42)
        ).scalar_one()
    assert count == writers


def test_a_recount_mends_counts_changed_by_hand(sql_shipment_backend: Backend) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    repository = SqlShipmentRepository(engine)
    shipments = repository.add_many(generated_orders(30, seed=8, now=NOW))
    with engine.begin() as connection:
        connection.execute(
            update(orders).where(orders.c.sno == shipments[0].sno).values(current_location_id=9999)
        )
        connection.execute(
            update(status_counts)
            .where(status_counts.c.status == Status.DELIVERED.value)
            .values(orders=1000)
        )
        connection.execute(delete(place_counts).where(place_counts.c.place == 1))
    assert stored_counts(engine) != counted_orders(engine)

    found = recount(engine)

    assert stored_counts(engine) == counted_orders(engine)
    assert sum(found.by_status.values()) == sum(found.by_place.values()) == 30
    assert found.by_place[9999] == 1
    assert found.corrected >= 2
    assert recount(engine).corrected == 0


def recount_held_while(engine: Engine, write: Callable[[], object]) -> None:
    """A recount held for a second just before it counts the orders, while `write` runs
    in another thread from that moment: it commits then, unless it waits for the
    recount's locks."""
    counting = threading.Event()
    recounter: list[int] = []

    def held(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        is_count = "count(*)" in statement.lower()
        if recounter == [threading.get_ident()] and is_count and not counting.is_set():
            counting.set()
            time.sleep(1)

    def recount_once() -> None:
        recounter.append(threading.get_ident())
        recount(engine)

    def write_then() -> None:
        assert counting.wait(timeout=10)
        write()

    event.listen(engine, "before_cursor_execute", held)
    try:
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(recount_once), pool.submit(write_then)]:
                future.result(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", held)


@pytest.mark.mariadb
def test_a_writer_that_commits_while_a_recount_counts_is_counted_once(
    mariadb_engine: Engine,
) -> None:
    """The recount is held just before it counts the orders while a /fake batch tries
    to commit: the batch waits for the recount's locks, then adds its own."""
    empty_tables(mariadb_engine)
    SqlLocationCatalog(mariadb_engine).sync(LOGISTICS_CENTERS)
    repository = SqlShipmentRepository(mariadb_engine)
    repository.add_many(generated_orders(20, seed=9, now=NOW))

    recount_held_while(
        mariadb_engine, lambda: repository.add_many(generated_orders(10, seed=10, now=NOW))
    )

    assert stored_counts(mariadb_engine) == counted_orders(mariadb_engine)


@pytest.mark.mariadb
def test_a_recount_makes_the_rows_a_writer_between_rowless_places_waits_on(
    mariadb_engine: Engine,
) -> None:
    """Orders at a place whose row is gone, and an event moving one of them to another
    place without a row while the recount counts: the writer waits, and is counted once."""
    empty_tables(mariadb_engine)
    SqlLocationCatalog(mariadb_engine).sync(LOGISTICS_CENTERS)
    repository = SqlShipmentRepository(mariadb_engine)
    moving = [
        shipment
        for shipment in repository.add_many(generated_orders(40, seed=11, now=NOW))
        if shipment.current_status is Status.IN_TRANSIT
    ][:3]
    assert len(moving) == 3, "the seed leaves orders in transit"
    with mariadb_engine.begin() as connection:  # two places added by hand: no rows
        connection.execute(insert(locations), [
            {"id": key, "title": f"站{key}", "city": "臺北市", "address": "路1號",
             "region": "main_island"}
            for key in (9001, 9002)
        ])  # fmt: skip
    for index, shipment in enumerate(moving):
        moving[index] = repository.append_event(
            shipment.sno,
            TrackingEvent(
                Status.IN_TRANSIT, 9001, shipment.events[-1].occurred_at + timedelta(minutes=1)
            ),
            len(shipment.events),
        )
    with mariadb_engine.begin() as connection:  # as an older release would leave it
        connection.execute(delete(place_counts).where(place_counts.c.place.in_([9001, 9002])))
    shipment = moving[0]
    later = TrackingEvent(
        Status.IN_TRANSIT, 9002, shipment.events[-1].occurred_at + timedelta(minutes=1)
    )

    recount_held_while(
        mariadb_engine, lambda: repository.append_event(shipment.sno, later, len(shipment.events))
    )

    counts = stored_counts(mariadb_engine)
    assert counts == counted_orders(mariadb_engine)
    assert (counts.get(9001), counts.get(9002)) == (len(moving) - 1, 1)


def test_logistic_recount_says_what_it_mended(tmp_path: Path) -> None:
    env = {**os.environ, "LOGISTIC_HOME": str(tmp_path), "LOGISTIC_LOG_LEVEL": "WARNING"}
    env.pop("LOGISTIC_DATABASE_URL", None)
    cli = [sys.executable, "-m", "logistic.entrypoints.cli"]
    subprocess.run([*cli, "seed", "--orders", "20"], env=env, check=True, capture_output=True)
    database = next(tmp_path.rglob("*.db"))
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE status_counts SET orders = orders + 5")

    done = subprocess.run([*cli, "recount"], env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert "20 orders counted by status and by place; 9 stored counts corrected" in done.stdout

    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE orders SET current_status = 'Lost' WHERE sno = 1")
    refused = subprocess.run([*cli, "recount"], env=env, capture_output=True, text=True)

    assert refused.returncode == 1
    assert "orders hold statuses no migration knows, ['Lost']" in refused.stderr
    assert "Traceback" not in refused.stderr
