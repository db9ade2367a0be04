"""The Alembic migrations build exactly the schema that tables.py describes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.migrate import alembic_config, upgrade
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.status_counts import recount
from logistic.adapters.sql.tables import metadata
from logistic.domain.model import TrackingEvent
from logistic.domain.status import Status
from tests.integration.alembic_steps import migrate_to

REPOSITORY = Path(__file__).resolve().parents[2]


def assert_schema_matches_tables(engine: Engine) -> None:
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == {*metadata.tables, "alembic_version"}
    for name, table in metadata.tables.items():
        stored = [column["name"] for column in inspector.get_columns(name)]
        assert stored == [column.name for column in table.columns], name
        stored_indexes = {index["name"] for index in inspector.get_indexes(name)}
        assert {index.name for index in table.indexes} <= stored_indexes, name
        # Alembic's comparison below does not look at primary keys.
        primary_key = inspector.get_pk_constraint(name)["constrained_columns"]
        assert primary_key == [column.name for column in table.primary_key.columns], name
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert context.get_current_revision() == head


def test_sqlite_gets_the_whole_schema_twice_over(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'logistic.db'}"

    upgrade(url)
    upgrade(url)

    engine = create_engine(url)
    try:
        assert_schema_matches_tables(engine)
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_mariadb_gets_the_whole_schema_twice_over(fresh_mariadb_url: str) -> None:
    engine = create_engine(fresh_mariadb_url)
    try:
        upgrade(engine)
        upgrade(engine)

        assert_schema_matches_tables(engine)
        with engine.connect() as connection:
            options = connection.execute(
                text(
                    "SELECT table_name, engine, table_collation FROM information_schema.tables"
                    " WHERE table_schema = DATABASE()"
                )
            ).all()
        for table_name, table_engine, collation in options:
            assert table_engine == "InnoDB", table_name
            assert collation.startswith("utf8mb4_"), table_name
    finally:
        engine.dispose()


def test_operators_can_migrate_with_the_alembic_command(tmp_path: Path) -> None:
    database = tmp_path / "operator.db"
    environment = {**os.environ, "LOGISTIC_DATABASE_URL": f"sqlite:///{database}"}

    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPOSITORY,
        env=environment,
        check=True,
        capture_output=True,
    )

    engine = create_engine(f"sqlite:///{database}")
    try:
        assert_schema_matches_tables(engine)
    finally:
        engine.dispose()


def _events_before_0005(engine: Engine) -> None:
    """One order with three events, stored by the schema of 0004 (ids by AUTO_INCREMENT)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO locations (id, title, city, address, region)"
                " VALUES (1, 'A', 'Taipei', 'a', 'main_island')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO locations (id, title, city, address, region)"
                " VALUES (2, 'B', 'Tainan', 'b', 'main_island')"
            )
        )
        connection.execute(
            text("INSERT INTO recipients (id, name, phone, address) VALUES (7, 'n', 'p', 'a')")
        )
        connection.execute(
            text(
                "INSERT INTO orders (sno, recipient_id, origin_id, destination_id, created_at,"
                " promised_by, current_status, current_location_id, last_event_at, event_count)"
                " VALUES (5, 7, 1, 1, '2026-01-01 00:00:00', '2026-01-02 00:00:00',"
                " 'In Transit', 1, '2026-01-01 02:00:00', 3)"
            )
        )
        for hour, status in enumerate(["Created", "Package Received", "In Transit"]):
            connection.execute(
                text(
                    "INSERT INTO tracking_events (order_sno, status, location_id, occurred_at)"
                    " VALUES (5, :status, 1, :at)"
                ),
                {"status": status, "at": f"2026-01-01 0{hour}:00:00"},
            )


def _keeps_ids_and_continues_after_them(engine: Engine) -> None:
    migrate_to(engine, command.upgrade, "0004")
    _events_before_0005(engine)
    with engine.connect() as connection:
        before = (
            connection.execute(text("SELECT id FROM tracking_events ORDER BY occurred_at"))
            .scalars()
            .all()
        )

    upgrade(engine)

    assert_schema_matches_tables(engine)
    assert _status_counts(engine) == {"In Transit": 1}
    assert _place_counts(engine) == {0: 0, 1: 1, 2: 0}
    repository = SqlShipmentRepository(engine)
    stored = repository.get(5)
    assert stored is not None
    assert [event.id for event in stored.events] == before
    later = TrackingEvent(Status.OUT_FOR_DELIVERY, 2, datetime(2026, 1, 1, 3, tzinfo=UTC))
    updated = repository.append_event(5, later, expected_events=3)
    assert [event.id for event in updated.events] == [*before, max(before) + 1]
    assert _status_counts(engine) == {"Out for Delivery": 1}
    assert _place_counts(engine) == {0: 0, 1: 0, 2: 1}

    # And back: 0004's schema with every event, its AUTO_INCREMENT going on after them.
    migrate_to(engine, command.downgrade, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tracking_events (order_sno, status, location_id, occurred_at)"
                " VALUES (5, 'Delivered', 1, '2026-01-01 04:00:00')"
            )
        )
        ids = connection.execute(text("SELECT id FROM tracking_events ORDER BY id")).scalars()
        assert list(ids) == [*before, max(before) + 1, max(before) + 2]


def _status_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT status, orders FROM status_counts")).all()
    assert len(rows) == len(Status) + 1, "one row per status, and one for orders with none"
    return {status: count for status, count in rows if count}


def test_sqlite_stored_orders_come_through_0005_and_0006_and_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        _keeps_ids_and_continues_after_them(engine)
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_mariadb_stored_orders_come_through_0005_and_0006_and_back(fresh_mariadb_url: str) -> None:
    engine = create_engine(fresh_mariadb_url)
    try:
        _keeps_ids_and_continues_after_them(engine)
    finally:
        engine.dispose()


def _place_counts(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT place, orders FROM place_counts")).all()
    return {int(place): int(count) for place, count in rows}


def _fills_place_counts_after_a_stopped_run(engine: Engine) -> None:
    migrate_to(engine, command.upgrade, "0009")
    with engine.begin() as connection:
        for place in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO locations (id, title, city, address, region)"
                    " VALUES (:id, 'A', 'Taipei', 'a', 'main_island')"
                ),
                {"id": place},
            )
        connection.execute(
            text("INSERT INTO recipients (id, name, phone, address) VALUES (7, 'n', 'p', 'a')")
        )
        for sno, place in ((5, 1), (6, None), (8, 77)):  # 77: a place the catalog lacks
            connection.execute(
                text(
                    "INSERT INTO orders (sno, recipient_id, origin_id, destination_id,"
                    " created_at, promised_by, current_status, current_location_id,"
                    " last_event_at, event_count) VALUES (:sno, 7, 1, 1,"
                    " '2026-01-01 00:00:00', '2026-01-02 00:00:00', 'In Transit', :place,"
                    " '2026-01-01 02:00:00', 1)"
                ),
                {"sno": sno, "place": place},
            )
        # What a run of 0010 stopped after its CREATE TABLE leaves (MariaDB commits
        # DDL at once): the table, part of its rows, 0009 still stamped.
        connection.execute(
            text(
                "CREATE TABLE place_counts"
                " (place BIGINT NOT NULL PRIMARY KEY, orders BIGINT NOT NULL)"
            )
        )
        connection.execute(text("INSERT INTO place_counts (place, orders) VALUES (1, 99)"))

    upgrade(engine)

    assert _place_counts(engine) == {0: 1, 1: 1, 2: 0, 77: 1}
    recount(engine)  # its status counts are off: the orders were written by hand
    assert _place_counts(engine) == {0: 1, 1: 1, 2: 0, 77: 1}


def test_sqlite_0010_fills_place_counts_after_a_stopped_run(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'stopped.db'}")
    try:
        _fills_place_counts_after_a_stopped_run(engine)
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_mariadb_0010_fills_place_counts_after_a_stopped_run(fresh_mariadb_url: str) -> None:
    engine = create_engine(fresh_mariadb_url)
    try:
        _fills_place_counts_after_a_stopped_run(engine)
    finally:
        engine.dispose()


def _sequences(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT name, next_value FROM sequences")).all()
    return {name: int(value) for name, value in rows}


def _makes_every_sequence_row_after_the_stored_keys(engine: Engine) -> None:
    migrate_to(engine, command.upgrade, "0010")
    assert set(_sequences(engine)) == {"tracking_events.id"}
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO locations (id, title, city, address, region)"
                " VALUES (1, 'A', 'Taipei', 'a', 'main_island')"
            )
        )
        for recipient in (7, 12):
            connection.execute(
                text(
                    "INSERT INTO recipients (id, name, phone, address) VALUES (:id, 'n', 'p', 'a')"
                ),
                {"id": recipient},
            )
        connection.execute(
            text(
                "INSERT INTO orders (sno, recipient_id, origin_id, destination_id, created_at,"
                " promised_by, current_status, current_location_id, last_event_at, event_count)"
                " VALUES (5, 7, 1, 1, '2026-01-01 00:00:00', '2026-01-02 00:00:00',"
                " NULL, NULL, NULL, 0)"
            )
        )

    upgrade(engine)
    assert _sequences(engine) == {"orders.sno": 6, "recipients.id": 13, "tracking_events.id": 1}

    # Run again over rows a write moved on (or an older release made): they are kept.
    migrate_to(engine, command.downgrade, "0010")
    with engine.begin() as connection:
        connection.execute(text("UPDATE sequences SET next_value = 100 WHERE name = 'orders.sno'"))
    upgrade(engine)
    assert _sequences(engine) == {
        "orders.sno": 100,
        "recipients.id": 13,
        "tracking_events.id": 1,
    }


def test_sqlite_0011_makes_every_sequence_row_after_the_stored_keys(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'sequences.db'}")
    try:
        _makes_every_sequence_row_after_the_stored_keys(engine)
    finally:
        engine.dispose()


@pytest.mark.mariadb
@pytest.mark.parametrize("scheme", ["mysql+pymysql", "mariadb+pymysql"])
def test_mariadb_0011_makes_every_sequence_row_after_the_stored_keys(
    fresh_mariadb_url: str, scheme: str
) -> None:
    engine = create_engine(scheme + fresh_mariadb_url[fresh_mariadb_url.index("://") :])
    try:
        _makes_every_sequence_row_after_the_stored_keys(engine)
    finally:
        engine.dispose()
