"""What the SQL shipment repository promises beyond the port: the order row's summary,
the sequences, the statements a read or a batch costs, and how driver errors surface."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine, ping
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.tables import orders, recipients, sequences
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import LocationNotFound, StorageUnavailable
from logistic.domain.model import TrackingEvent
from logistic.domain.status import Status
from logistic.ports.repositories import ShipmentRepository
from tests.integration.sql_backends import Backend
from tests.integration.test_shipment_repository_contract import (
    NOW,
    created,
    event_count,
    generated,
    large_batch,
    new_shipment,
)
from tests.services import free_port


def test_the_order_row_summarises_its_history(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    delivered_plan = (
        created(NOW - timedelta(days=2)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=2) + timedelta(hours=3)),
        TrackingEvent(Status.IN_TRANSIT, 13, NOW - timedelta(days=1)),
        TrackingEvent(Status.OUT_FOR_DELIVERY, 13, NOW - timedelta(hours=5)),
        TrackingEvent(Status.DELIVERED, 13, NOW - timedelta(hours=2)),
    )
    delivered, fresh = repository.add_many([new_shipment(*delivered_plan), new_shipment()])

    def summary(sno: int) -> tuple[Any, ...]:
        columns = (
            orders.c.current_status,
            orders.c.current_location_id,
            orders.c.last_event_at,
            orders.c.delivered_at,
            orders.c.event_count,
        )
        with engine.connect() as connection:
            return tuple(connection.execute(select(*columns).where(orders.c.sno == sno)).one())

    delivered_at = NOW - timedelta(hours=2)
    assert summary(delivered.sno) == ("Delivered", 13, delivered_at, delivered_at, 5)
    assert summary(fresh.sno) == (None, None, None, None, 0)

    repository.append_event(fresh.sno, created(NOW - timedelta(hours=1)), expected_events=0)
    assert summary(fresh.sno) == ("Created", 2, NOW - timedelta(hours=1), None, 1)
    for step, (status, location) in enumerate(
        [
            (Status.PACKAGE_RECEIVED, 2),
            (Status.IN_TRANSIT, 13),
            (Status.OUT_FOR_DELIVERY, 13),
            (Status.DELIVERED, 13),
        ],
        start=1,
    ):
        at = NOW - timedelta(hours=1) + timedelta(minutes=step)
        repository.append_event(fresh.sno, TrackingEvent(status, location, at), step)
    assert summary(fresh.sno) == ("Delivered", 13, at, at, 5)


def test_a_batch_with_an_unknown_center_stores_nothing(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    good = new_shipment(created())
    bad = new_shipment(created(), TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW))

    with pytest.raises(LocationNotFound) as raised:
        repository.add_many([good, bad])

    assert raised.value.location_id == 404
    assert repository.count() == 0
    assert event_count(engine) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(recipients)).scalar_one() == 0
    [stored] = repository.add_many([good])
    assert repository.get(stored.sno) == stored


def test_an_event_at_an_unknown_center_is_not_recorded(sql_shipment_backend: Backend) -> None:
    repository = sql_shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])

    with pytest.raises(LocationNotFound):
        repository.append_event(
            stored.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW), expected_events=1
        )

    assert repository.get(stored.sno) == stored
    fresh = repository.append_event(
        stored.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 3, NOW), expected_events=1
    )
    assert len(fresh.events) == 2


def test_snos_continue_after_stored_data_when_the_sequence_is_new(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    stored = repository.add_many([new_shipment(created()) for _ in range(5)])
    with engine.begin() as connection:
        connection.execute(sequences.delete())

    [after] = repository.add_many([new_shipment(created())])

    assert after.sno == max(shipment.sno for shipment in stored) + 1
    assert after.recipient.id == max(shipment.recipient.id for shipment in stored) + 1


def test_a_bulk_order_row_summarises_its_history(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    delivered_at = NOW - timedelta(hours=2)
    history = (
        created(NOW - timedelta(days=2)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=2) + timedelta(hours=3)),
        TrackingEvent(Status.IN_TRANSIT, 13, NOW - timedelta(days=1)),
        TrackingEvent(Status.OUT_FOR_DELIVERY, 13, NOW - timedelta(hours=5)),
        TrackingEvent(Status.DELIVERED, 13, delivered_at),
    )
    delivered, fresh = repository.add_in_bulk([new_shipment(*history), new_shipment()])
    columns = (
        orders.c.current_status,
        orders.c.current_location_id,
        orders.c.last_event_at,
        orders.c.delivered_at,
        orders.c.event_count,
    )
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(orders.c.sno)).all()

    assert [tuple(row) for row in rows] == [
        ("Delivered", 13, delivered_at, delivered_at, 5),
        (None, None, None, None, 0),
    ]
    assert repository.get(fresh) is not None
    assert repository.get(delivered) is not None


def test_a_bulk_batch_with_an_unknown_center_stores_nothing(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    bad = new_shipment(created(), TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW))

    with pytest.raises(LocationNotFound) as raised:
        repository.add_in_bulk([*generated(20, seed=1), bad])

    assert raised.value.location_id == 404
    assert repository.count() == 0
    assert event_count(engine) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(recipients)).scalar_one() == 0


def statements(engine: Engine, action: Callable[[], object]) -> list[str]:
    """The SQL statements (transaction control left out) that `action` sends."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def primed(backend: Backend) -> tuple[ShipmentRepository, Engine]:
    """The back end's repository and engine, after a first order made the sequences."""
    assert backend.engine is not None
    backend.shipments.add_many(generated(1, seed=1))
    return backend.shipments, backend.engine


def driver_statements(engine: Engine, action: Callable[[], object]) -> list[str]:
    """The SQL statements (transaction control left out) that `action` sends, seen by
    the driver itself: the shipment read goes past Core's events. `action` runs twice,
    and the first run, which opens the connection, is not counted."""
    sent: list[str] = []

    def watch(dbapi_connection: Any, _: object) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(sent.append)
            return
        query = dbapi_connection.query  # PyMySQL's and mysqlclient's cursors call it

        def counted(sql: str | bytes, *args: Any) -> Any:
            sent.append(sql if isinstance(sql, str) else sql.decode())
            return query(sql, *args)

        dbapi_connection.query = counted

    engine.dispose()
    event.listen(engine, "connect", watch)
    try:
        action()
        sent.clear()
        action()
    finally:
        event.remove(engine, "connect", watch)
        engine.dispose()
    return [
        statement
        for statement in sent
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
    ]


def test_reading_a_shipment_is_one_query_of_its_order_row(sql_shipment_backend: Backend) -> None:
    """The order's snapshot holds its recipient and events (adapters/sql/snapshot.py)."""
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    [stored] = repository.add_many(generated(1, seed=3))

    sent = driver_statements(engine, lambda: repository.get(stored.sno))

    assert len(sent) == 1
    assert "FROM orders" in sent[0]
    assert "recipients" not in sent[0]
    assert "tracking_events" not in sent[0]


@pytest.mark.parametrize(("way", "large_size"), [("add_many", 200), ("add_in_bulk", 300)])
def test_a_batch_costs_the_same_round_trips_whatever_its_size(
    sql_shipment_backend: Backend, way: str, large_size: int
) -> None:
    repository, engine = primed(sql_shipment_backend)
    add = getattr(repository, way)

    small = statements(engine, lambda: add(generated(1, seed=2)))
    large = statements(engine, lambda: add(generated(large_size, seed=3)))

    assert len(large) == len(small)


def test_a_small_batch_is_numbered_and_written_in_one_transaction(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = primed(sql_shipment_backend)
    commits: list[object] = []
    commit = commits.append
    event.listen(engine, "commit", commit)
    try:
        sent = statements(engine, lambda: repository.add_many(generated(100, seed=4)))
    finally:
        event.remove(engine, "commit", commit)

    assert len(commits) == 1
    # The three sequences: one locking read, one update; one INSERT per table; the
    # status counts and the place counts.
    assert len(sent) == 2 + 3 + 2


def test_a_batch_over_a_megabyte_goes_out_in_several_statements_on_mariadb_only(
    sql_shipment_backend: Backend,
) -> None:
    """MariaDB's rows are written as literals, at most a megabyte a statement; SQLite's
    go to one executemany."""
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    stored: list[range] = []

    sent = statements(engine, lambda: stored.append(repository.add_in_bulk(large_batch())))

    inserts = sum(text.startswith("INSERT INTO recipients ") for text in sent)
    if sql_shipment_backend.name.startswith("mariadb"):  # literals, whichever the driver
        assert inserts >= 2
    else:
        assert inserts == 1
    assert len(stored[0]) == repository.count() == 4_000


def test_an_unreachable_database_is_storage_unavailable() -> None:
    engine = create_engine(f"mysql+pymysql://nobody@127.0.0.1:{free_port()}/logistic")
    repository, catalog = SqlShipmentRepository(engine), SqlLocationCatalog(engine)
    try:
        for call in (
            lambda: ping(engine),
            lambda: repository.get(1),
            lambda: repository.count(),
            lambda: repository.add_many([new_shipment(created())]),
            lambda: repository.append_event(1, created(), 0),
            lambda: catalog.all(),
            lambda: catalog.sync(LOGISTICS_CENTERS),
        ):
            with pytest.raises(StorageUnavailable) as raised:
                call()
            assert raised.value.__cause__ is not None
    finally:
        engine.dispose()


def test_ping_passes_on_a_live_database(sql_shipment_backend: Backend) -> None:
    assert sql_shipment_backend.engine is not None
    ping(sql_shipment_backend.engine)


@pytest.mark.mariadb
def test_each_mysql_driver_is_handed_the_read_in_its_own_parameter_style(
    mariadb_engine: Engine, mysqlclient_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyMySQL takes `%(sno)s` and a dict, mysqlclient `%s` and a tuple. Both accept the
    other's too, so only what their cursors are handed tells whether the SQL compiled
    for one driver was kept for the other: whichever read first, the second would be
    handed its form."""
    import MySQLdb.cursors
    import pymysql.cursors

    handed: dict[str, tuple[str, object]] = {}
    for name, cursor in (("pymysql", pymysql.cursors.Cursor), ("mysqldb", MySQLdb.cursors.Cursor)):
        execute = cursor.execute

        def watched(
            self: Any, query: str | bytes, args: object = None, *, _n: str = name, _e: Any = execute
        ) -> Any:
            sql = query if isinstance(query, str) else query.decode()
            if "FROM orders" in sql:  # the read, not a connection's own set-up
                handed.setdefault(_n, (sql, args))
            return _e(self, query, args)

        monkeypatch.setattr(cursor, "execute", watched)
    engines = {"pymysql": mariadb_engine, "mysqldb": mysqlclient_engine}
    SqlLocationCatalog(mariadb_engine).sync(LOGISTICS_CENTERS)
    [stored] = SqlShipmentRepository(mariadb_engine).add_many(generated(1, seed=5))
    handed.clear()

    for engine in engines.values():
        assert SqlShipmentRepository(engine).get(stored.sno) == stored

    assert "%(sno)s" in handed["pymysql"][0]
    assert handed["pymysql"][1] == {"sno": stored.sno}
    assert "%(sno)s" not in handed["mysqldb"][0]
    assert handed["mysqldb"][1] == (stored.sno,)
