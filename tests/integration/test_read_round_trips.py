"""A /query miss costs MariaDB one round trip for the read and one for the version check
(none for a delivered or returned shipment, whose body is final); a read that fails or is
interrupted leaves no connection behind that would answer the next read wrongly.

The round trips are counted on the wire: the service reaches MariaDB through a relay
that counts the commands its connections send (queries, pings, ROLLBACKs alike).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
from pymysql.constants import FIELD_TYPE
from sqlalchemy import event, make_url, text

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


class CommandRelay:
    """A TCP relay to MariaDB that counts the commands sent through it.

    In the MySQL protocol every packet starts with its payload's length (three bytes,
    little-endian) and a sequence number, which each command restarts at 0; the client
    then waits for the reply, so a command is a round trip.
    """

    def __init__(self) -> None:
        self.commands = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, url: str) -> str:
        """`url` with the relay in place of the server."""
        port = self._listener.getsockname()[1]
        return make_url(url).set(host="127.0.0.1", port=port).render_as_string(False)

    def during(self, action: Any) -> int:
        before = self.commands
        with contextlib.suppress(ShipmentNotFound):
            action()
        return self.commands - before

    def close(self) -> None:
        for sock in [self._listener, *self._sockets]:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection((MARIADB_HOST, MARIADB_PORT))
            self._sockets += [client, server]
            threading.Thread(target=self._relay, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(server, client, False), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        pending = bytearray()
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if count:
                    pending += data
                    self._count(pending)
                sink.sendall(data)  # counted first: the reply cannot come before
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _count(self, pending: bytearray) -> None:
        while len(pending) >= 4:
            size = int.from_bytes(pending[:3], "little")
            if len(pending) < 4 + size:
                return
            if pending[3] == 0:
                self.commands += 1
            del pending[: 4 + size]


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


def driver_url(driver: str, url: str) -> str:
    if driver == "mysqlclient":
        require("mysqlclient", mysqlclient_problem())
        return as_mysqlclient(url)
    return url


@pytest.fixture(params=["pymysql", "mysqlclient"])
def each_driver(
    request: pytest.FixtureRequest, fresh_mariadb_url: str, tmp_path: Path
) -> Iterator[Container]:
    """On each MySQL driver the service supports."""
    with migrated(driver_url(request.param, fresh_mariadb_url), tmp_path) as container:
        yield container


@pytest.mark.parametrize("driver", ["pymysql", "mysqlclient"])
def test_a_miss_is_one_round_trip_and_its_version_check_one_more(
    fresh_mariadb_url: str, tmp_path: Path, driver: str
) -> None:
    relay = CommandRelay()
    try:
        url = relay.url(driver_url(driver, fresh_mariadb_url))
        with migrated(url, tmp_path) as container:
            first, in_flight = (shipment_with(container, IN_FLIGHT) for _ in range(2))
            delivered = shipment_with(container, DELIVERED)
            tracking = container.tracking()
            tracking.uncached_body(first)  # a new connection says hello first

            assert relay.during(lambda: tracking.uncached_body(in_flight)) == 2
            assert relay.during(lambda: tracking.uncached_body(delivered)) == 1
            assert relay.during(lambda: tracking.uncached_body(99_999_999)) == 2
            assert relay.during(lambda: tracking.body(in_flight)) == 0  # cached
    finally:
        relay.close()


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
    fresh_mariadb_url: str, tmp_path: Path, read: str
) -> None:
    """A reply left half read on a pooled connection would answer the next query on it:
    the next caller would be shown another parcel, or an error. The interrupt comes as
    Ctrl-C would, in
    the middle of a reply: from PyMySQL's conversion of an integer column, both reads'
    first, while the rest of the reply waits unread."""
    armed = False

    def interrupting(value: str) -> int:
        if armed:
            raise KeyboardInterrupt
        return int(value)

    def convert_through_it(dbapi_connection: Any, _: object) -> None:
        for integers in (FIELD_TYPE.LONG, FIELD_TYPE.LONGLONG):
            dbapi_connection.decoders[integers] = interrupting

    with migrated(fresh_mariadb_url, tmp_path) as container:
        event.listen(container.read_engine(), "connect", convert_through_it)
        repository = container.shipments()
        first, second = shipment_with(container, IN_FLIGHT), shipment_with(container, DELIVERED)
        expected = repository.get(second)  # the pool now holds one connection
        assert expected is not None

        armed = True
        with pytest.raises(KeyboardInterrupt):
            getattr(repository, read)(first)
        armed = False

        found = getattr(repository, read)(second)
        assert found == (expected if read == "get" else len(DELIVERED))
        assert container.read_engine().pool.checkedout() == 0
