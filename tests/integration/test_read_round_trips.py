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
import pymysql.connections
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ShipmentNotFound
from logistic.domain.status import Status
from logistic.settings import Settings
from tests.services import (
    MARIADB_HOST,
    MARIADB_PASSWORD,
    MARIADB_PORT,
    MARIADB_USER,
    as_mysqlclient,
    mysqlclient_problem,
    require,
)
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


@contextlib.contextmanager
def migrated(url: str, home: Path) -> Iterator[Container]:
    settings = Settings.from_environ({"LOGISTIC_HOME": str(home), "LOGISTIC_DATABASE_URL": url})
    container = Container(settings=settings)
    try:
        upgrade(container.engine())
        container.location_catalog().sync(LOGISTICS_CENTERS)
        yield container
    finally:
        container.shutdown_resources()


@pytest.fixture
def container(fresh_mariadb_url: str, tmp_path: Path) -> Iterator[Container]:
    """On PyMySQL, whose commands RoundTrips counts."""
    with migrated(fresh_mariadb_url, tmp_path) as container:
        yield container


@pytest.fixture(params=["pymysql", "mysqlclient"])
def each_driver(
    request: pytest.FixtureRequest, fresh_mariadb_url: str, tmp_path: Path
) -> Iterator[Container]:
    """On each MySQL driver the service supports."""
    url = fresh_mariadb_url
    if request.param == "mysqlclient":
        require("mysqlclient", mysqlclient_problem())
        url = as_mysqlclient(url)
    with migrated(url, tmp_path) as container:
        yield container


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


def kill(connection_ids: list[int]) -> None:
    admin = pymysql.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password=MARIADB_PASSWORD
    )
    try:
        with admin.cursor() as cursor:
            for connection_id in connection_ids:
                cursor.execute(f"KILL {int(connection_id)}")
    finally:
        admin.close()


@pytest.mark.parametrize("read", ["get", "event_count"])
def test_a_read_after_the_server_closed_every_pooled_connection_still_answers(
    each_driver: Container, read: str
) -> None:
    """As after a restart of MariaDB: every connection the pool holds is dead. The read
    that meets the first is tried once more, and must not be lent another dead one."""
    container = each_driver
    (shipment,) = container.fake_orders().create(1)
    reads = container.read_engine()
    held = [reads.connect() for _ in range(3)]
    pooled = [
        connection.execute(text("SELECT CONNECTION_ID()")).scalar_one() for connection in held
    ]
    for connection in held:
        connection.close()
    kill(pooled)

    found = getattr(container.shipments(), read)(shipment.sno)

    assert found == (shipment if read == "get" else len(shipment.events))
    assert reads.pool.checkedout() == 0  # the dead connections were not kept from the pool


@pytest.mark.parametrize("read", ["get", "event_count"])
def test_a_read_interrupted_mid_reply_leaves_nothing_for_the_next_read(
    container: Container, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply left half read on a pooled connection would answer the next query: the
    next caller would be shown another parcel's recipient."""
    first, second = container.fake_orders().create(2)
    repository = container.shipments()
    repository.get(first.sno)  # the pool now holds one connection
    read_reply = pymysql.connections.Connection._read_query_result

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(pymysql.connections.Connection, "_read_query_result", interrupted)
    with pytest.raises(KeyboardInterrupt):
        getattr(repository, read)(first.sno)
    monkeypatch.setattr(pymysql.connections.Connection, "_read_query_result", read_reply)

    assert repository.get(second.sno) == second
    assert repository.event_count(second.sno) == len(second.events)
    assert container.read_engine().pool.checkedout() == 0
