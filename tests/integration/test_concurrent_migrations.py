"""`logistic migrate` run by every replica at once: one migrates, the others wait and agree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.tables import locations
from logistic.domain.centers import LOGISTICS_CENTERS
from tests.integration.servers import LOGISTIC
from tests.integration.test_migrations import assert_schema_matches_tables

REPLICAS = 4


def migrate_at_once(urls: list[str], home: Path) -> None:
    """One `logistic migrate` process per URL, all started at once; each must succeed."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("LOGISTIC")}
    environment = {**inherited, "LOGISTIC_HOME": str(home)}
    processes = [
        subprocess.Popen(
            [str(LOGISTIC), "migrate"],
            env={**environment, "LOGISTIC_DATABASE_URL": url},
            cwd=home,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for url in urls
    ]
    outcomes = [(process.wait(timeout=120), process.communicate()[0]) for process in processes]

    for code, output in outcomes:
        assert code == 0, output.decode(errors="replace")[-3000:]


def assert_migrated_once(url: str) -> None:
    engine = create_engine(url)
    try:
        assert_schema_matches_tables(engine)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            centers = connection.execute(select(func.count()).select_from(locations)).scalar()
        assert len(versions) == 1
        assert centers == len(LOGISTICS_CENTERS) == 18
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_replicas_migrating_one_mariadb_database_at_once_all_succeed(
    fresh_mariadb_url: str, tmp_path: Path
) -> None:
    migrate_at_once([fresh_mariadb_url] * REPLICAS, tmp_path)

    assert_migrated_once(fresh_mariadb_url)


def test_processes_migrating_one_sqlite_file_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'logistic.db'}"

    migrate_at_once([url] * REPLICAS, tmp_path)

    assert_migrated_once(url)
