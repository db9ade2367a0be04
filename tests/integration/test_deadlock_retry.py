"""A /fake batch the database rolls back to break a deadlock is written again, whole."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.error_counts import count_errors
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.services.metering import DATABASE_ERRORS, DEADLOCK_RETRIES, Meter
from tests.reporting import generated_orders
from tests.services import as_mysqlclient, mysqlclient_problem, require

pytestmark = pytest.mark.mariadb

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["pymysql", "mysqlclient"])
def engine(fresh_mariadb_url: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A new migrated database, through either driver: each raises its own errors."""
    url = fresh_mariadb_url
    if request.param == "mysqlclient":
        require("mysqlclient", mysqlclient_problem())
        url = as_mysqlclient(url)
    made = create_engine(url)
    upgrade(made)
    SqlLocationCatalog(made).sync(LOGISTICS_CENTERS)
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE heavy (id INT PRIMARY KEY)"))
    yield made
    made.dispose()


def _waiting_for_a_lock(engine: Engine) -> bool:
    """Whether a transaction on this test's database waits for a row lock."""
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT COUNT(*) FROM information_schema.innodb_trx AS t"
                " JOIN information_schema.processlist AS p ON p.id = t.trx_mysql_thread_id"
                " WHERE t.trx_state = 'LOCK WAIT' AND p.db = DATABASE()"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_batch_chosen_to_break_a_deadlock_is_written_again(engine: Engine) -> None:
    meter = Meter()
    repository = SqlShipmentRepository(count_errors(engine, meter), meter=meter)
    # `other` is closed first on the way out, so a failure never waits for the batch.
    with ThreadPoolExecutor(1) as pool, engine.connect() as other:
        other.begin()
        # Made heavier than the batch, so that InnoDB rolls the batch back, not this.
        other.execute(
            text("INSERT INTO heavy (id) VALUES " + ",".join(f"({i})" for i in range(500)))
        )
        other.execute(
            text("SELECT next_value FROM sequences WHERE name = 'tracking_events.id' FOR UPDATE")
        )
        batch = pool.submit(repository.add_many, generated_orders(3, seed=1, now=NOW))
        deadline = time.monotonic() + 10
        while not _waiting_for_a_lock(engine):  # the batch holds the snos' rows, waits
            assert time.monotonic() < deadline, "the batch never waited for the lock"
            time.sleep(0.15)  # MariaDB refreshes innodb_trx when unread for 0.1 s
        # The other half of the cycle: the batch, the lighter, is rolled back and this
        # goes on; the batch can only have been written by its next attempt.
        other.execute(text("SELECT next_value FROM sequences WHERE name = 'orders.sno' FOR UPDATE"))
        other.rollback()
        written = batch.result(timeout=30)

    assert len(written) == 3
    for shipment in written:
        assert repository.get(shipment.sno) == shipment
    counted = meter.reading().values
    assert counted[(DEADLOCK_RETRIES, ())] == 1
    assert counted[(DATABASE_ERRORS, ("deadlock",))] == 1
