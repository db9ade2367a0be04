"""Twenty couriers scanning one parcel at once, on MariaDB and Redis."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate, TransitionRefused
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status, is_valid_history
from logistic.entrypoints.http import create_app
from logistic.ports.repositories import NewShipment
from logistic.services.events import Scan
from logistic.services.tracking import View
from logistic.settings import Settings
from tests.integration.sql_backends import empty_tables

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]

WRITERS = 20
C, PR, IT, OFD, D, RTS, EX = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
    Status.RETURNED_TO_SENDER,
    Status.EXCEPTION,
)


@pytest.fixture
def container(
    mariadb_engine: Engine, mariadb_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> Iterator[Container]:
    empty_tables(mariadb_engine)
    settings = Settings.from_environ(
        {
            "LOGISTIC_HOME": str(tmp_path),
            "LOGISTIC_DATABASE_URL": mariadb_url,
            "LOGISTIC_REDIS_URL": redis_url,
            "LOGISTIC_REDIS_PREFIX": redis_prefix,
            # The racing writers wait for each other's row lock: on a busy test machine
            # longer than the serving default allows (a 503 is not what is tested here).
            "LOGISTIC_DATABASE_TIMEOUT": "60",
        }
    )
    container = Container(settings=settings)
    container.location_catalog().sync(LOGISTICS_CENTERS)
    yield container
    container.shutdown_resources()


def _new_order(container: Container) -> int:
    """An order created an hour ago, with nothing else recorded yet."""
    now = container.clock().now()
    created = TrackingEvent(C, 2, now - timedelta(hours=1))
    plan = PlannedShipment(2, 17, created.occurred_at, (created,))
    contact = Contact("李小明", "0966123401", "澎湖縣馬公市中正路200號")
    new = NewShipment(contact, plan, promised_by=now + timedelta(days=3))
    return container.shipments().add_many([new])[0].sno


def _race(container: Container, sno: int, status: Status, location: int) -> list[str]:
    """Each writer's outcome: "recorded", or "refused" (409)."""
    recording = container.recording()
    start = threading.Barrier(WRITERS)

    def write(_: int) -> str:
        start.wait()
        try:
            recording.record(sno, Scan(status, location))
        except (ConcurrentUpdate, TransitionRefused):
            return "refused"
        return "recorded"

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return list(pool.map(write, range(WRITERS)))


def _assert_query_shows_the_database(container: Container, sno: int) -> None:
    shipment = container.shipments().get(sno)
    assert shipment is not None
    client = create_app(container).test_client()
    shown = client.get(f"/query?sno={sno}")
    assert shown.status_code == 200
    assert shown.data == container.tracking().render(shipment, View.MASKED)


def test_each_step_is_taken_by_exactly_one_writer(container: Container) -> None:
    sno = _new_order(container)
    client = create_app(container).test_client()
    assert client.get(f"/query?sno={sno}").status_code == 200  # cached before the race

    for status in (PR, EX, RTS):
        outcomes = _race(container, sno, status, 5)
        assert outcomes.count("recorded") == 1, (status, outcomes)
        assert outcomes.count("refused") == WRITERS - 1

    shipment = container.shipments().get(sno)
    assert shipment is not None
    assert shipment.statuses == (C, PR, EX, RTS)
    assert container.shipments().event_count(sno) == 4
    _assert_query_shows_the_database(container, sno)


def test_racing_writers_to_delivery_leave_a_valid_history_and_lose_nothing(
    container: Container,
) -> None:
    sno = _new_order(container)
    recorded = 0
    for status, location in ((PR, 2), (IT, 7), (IT, 13), (OFD, 17), (D, 17)):
        outcomes = _race(container, sno, status, location)
        # In Transit may follow In Transit, so a late writer of that step may still succeed;
        # every other step is taken once.
        assert outcomes.count("recorded") >= 1
        if status is not IT:
            assert outcomes.count("recorded") == 1, (status, outcomes)
        recorded += outcomes.count("recorded")
        _assert_query_shows_the_database(container, sno)

    shipment = container.shipments().get(sno)
    assert shipment is not None
    assert is_valid_history(shipment.statuses)
    assert len(shipment.events) == 1 + recorded
    assert shipment.current_status is D
    ids = [event.id for event in shipment.events]
    assert ids == sorted(ids)
