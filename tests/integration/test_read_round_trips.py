"""A /query miss costs MariaDB one round trip for the read and one for the version check
(none for a delivered or returned shipment, whose body is final).

The round trips are counted where they happen: every command a pymysql
connection sends to the server (queries, pings, ROLLBACKs) goes through its
`_execute_command`, which a "connect" listener counts for the engines watched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ShipmentNotFound
from logistic.domain.status import Status
from logistic.settings import Settings
from tests.services import MARIADB_HOST, MARIADB_PASSWORD, MARIADB_PORT, MARIADB_USER
from tests.unit.scans import shipment_with

IN_FLIGHT = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]
DELIVERED = [*IN_FLIGHT, Status.OUT_FOR_DELIVERY, Status.DELIVERED]

pytestmark = pytest.mark.mariadb


class RoundTrips:
    """Commands sent to the server by new connections of the engines watched."""

    def __init__(self, *engines: Engine) -> None:
        self.count = 0
        for engine in engines:
            engine.dispose()
            event.listen(engine, "connect", self._watch)

    def _watch(self, dbapi_connection: Any, _: object) -> None:
        send = dbapi_connection._execute_command

        def counted(*args: Any) -> Any:
            self.count += 1
            return send(*args)

        dbapi_connection._execute_command = counted

    def during(self, action: Any) -> int:
        before = self.count
        with contextlib.suppress(ShipmentNotFound):
            action()
        return self.count - before


@pytest.fixture
def container(fresh_mariadb_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": str(tmp_path), "LOGISTIC_DATABASE_URL": fresh_mariadb_url}
    )
    container = Container(settings=settings)
    try:
        upgrade(container.engine())
        container.location_catalog().sync(LOGISTICS_CENTERS)
        yield container
    finally:
        container.shutdown_resources()


def test_a_miss_is_one_round_trip_and_its_version_check_one_more(container: Container) -> None:
    first, in_flight = (shipment_with(container, IN_FLIGHT) for _ in range(2))
    delivered = shipment_with(container, DELIVERED)
    tracking = container.tracking()
    trips = RoundTrips(container.engine(), container.read_engine())
    tracking.uncached_body(first)  # a new connection says hello first

    assert trips.during(lambda: tracking.uncached_body(in_flight)) == 2
    assert trips.during(lambda: tracking.uncached_body(delivered)) == 1
    assert trips.during(lambda: tracking.uncached_body(99_999_999)) == 2
    assert trips.during(lambda: tracking.body(in_flight)) == 0  # cached


@pytest.mark.parametrize("read", ["get", "event_count"])
def test_a_read_on_a_connection_the_server_closed_is_tried_again(
    container: Container, read: str
) -> None:
    (shipment,) = container.fake_orders().create(1)
    reads = container.read_engine()
    with reads.connect() as connection:
        pooled = connection.execute(text("SELECT CONNECTION_ID()")).scalar_one()
    admin = pymysql.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password=MARIADB_PASSWORD
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"KILL {int(pooled)}")
    finally:
        admin.close()

    found = getattr(container.shipments(), read)(shipment.sno)

    assert found == (shipment if read == "get" else len(shipment.events))
    assert reads.pool.checkedout() == 0  # the dead connection was not kept from the pool
