"""bench.buffer_pool warms the pool by reading every index whole: each statement must
read the index it names, the rows (PRIMARY) of every table among them.

A bare COUNT(*) reads the smallest index, not the rows: the warm-up of tracking_events
once read only its location index, and the 1 GiB pool it measured was cold where
the misses read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.buffer_pool import TABLES, warm_statements
from bench.dataset import mariadb

from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.settings import Settings

pytestmark = pytest.mark.mariadb


@pytest.fixture
def seeded_url(fresh_mariadb_url: str, tmp_path: Path) -> str:
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": str(tmp_path), "LOGISTIC_DATABASE_URL": fresh_mariadb_url}
    )
    container = Container(settings=settings)
    try:
        upgrade(container.engine())
        container.location_catalog().sync(LOGISTICS_CENTERS)
        container.fake_orders().create(20)
    finally:
        container.shutdown_resources()
    return fresh_mariadb_url


def test_every_warm_statement_reads_the_index_it_names(seeded_url: str) -> None:
    connection = mariadb(seeded_url)
    try:
        with connection.cursor() as cursor:
            statements = warm_statements(cursor)
            read = []
            for table, index, statement in statements:
                cursor.execute(f"EXPLAIN {statement}")
                columns = [column[0] for column in cursor.description]
                plan = dict(zip(columns, cursor.fetchone(), strict=True))
                assert (plan["table"], plan["key"]) == (table, index), statement
                read.append((table, index))
    finally:
        connection.close()
    assert {(table, "PRIMARY") for table in TABLES} <= set(read)
    # Every index of the tables, the secondary ones a /fake write touches among them.
    assert ("tracking_events", "fk_tracking_events_location_id_locations") in read
    assert ("orders", "ix_orders_current_location_id_created_at_current_status") in read
