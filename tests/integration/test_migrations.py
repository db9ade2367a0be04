"""The Alembic migrations build exactly the schema that tables.py describes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.migrate import alembic_config, upgrade
from logistic.adapters.sql.tables import metadata

REPOSITORY = Path(__file__).resolve().parents[2]


def assert_schema_matches_tables(engine: Engine) -> None:
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == {*metadata.tables, "alembic_version"}
    for name, table in metadata.tables.items():
        stored = [column["name"] for column in inspector.get_columns(name)]
        assert stored == [column.name for column in table.columns], name
        stored_indexes = {index["name"] for index in inspector.get_indexes(name)}
        assert {index.name for index in table.indexes} <= stored_indexes, name
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
