"""Batches of scans racing on the same shipments, on MariaDB and Redis: every history
stays valid, every item is applied once or refused, and the stored counts stay exact."""

from __future__ import annotations

import contextlib
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
from logistic.domain.status import Status, is_valid_history
from logistic.services.events import Scan
from logistic.services.ingest import Item, Outcome
from logistic.settings import Settings
from tests.integration.sql_backends import empty_tables
from tests.integration.test_status_counts import counted_orders, stored_counts
from tests.unit.scans import shipment_with

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]

SHIPMENTS = 40
C, PR, IT, OFD, EX = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
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
        }
    )
    container = Container(settings=settings)
    container.location_catalog().sync(LOGISTICS_CENTERS)
    yield container
    container.shutdown_resources()


def _batch(container: Container, snos: list[int], steps: list[Status], offset: int) -> list[Item]:
    """For each shipment, `steps` a minute apart, starting `offset` minutes ago."""
    start = container.clock().now() - timedelta(minutes=offset)
    return [
        Item(sno, Scan(status, 3 + step, start + timedelta(minutes=step)), f"{offset}-{sno}-{step}")
        for sno in snos
        for step, status in enumerate(steps)
    ]


def test_two_batches_on_the_same_shipments_at_once(container: Container) -> None:
    snos = [shipment_with(container, [C]) for _ in range(SHIPMENTS)]
    ingest = container.ingest()
    batches = [
        _batch(container, snos, [PR, IT, IT], offset=30),
        _batch(container, snos, [PR, IT, OFD], offset=20),
    ]
    start = threading.Barrier(len(batches))

    def send(items: list[Item]) -> list[Outcome]:
        start.wait()
        return ingest.apply("racer", items)

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        outcomes = list(pool.map(send, batches))

    applied = sum(1 for found in outcomes for outcome in found if outcome.error is None)
    assert applied >= 3 * SHIPMENTS, "the first batch to lock a shipment applies all of it"
    for sno in snos:
        shipment = container.shipments().get(sno)
        assert shipment is not None
        assert is_valid_history(shipment.statuses)
        assert shipment.statuses[1] is PR
        assert shipment.statuses.count(PR) == 1
        times = [event.occurred_at for event in shipment.events]
        ids = [event.id for event in shipment.events]
        assert times == sorted(times)
        assert ids == sorted(ids)
    assert applied == sum(len(container.shipments().get(sno).events) - 1 for sno in snos)  # type: ignore[union-attr]
    engine = container.engine()
    assert stored_counts(engine) == counted_orders(engine)

    # The same two batches again: every item recorded is recognised, nothing is added.
    again = [ingest.apply("racer", items) for items in batches]
    for first, second in zip(outcomes, again, strict=True):
        for before, after in zip(first, second, strict=True):
            assert after.replayed == (before.error is None)
    assert (
        sum(
            1
            for found in again
            for outcome in found
            if outcome.error is None and not outcome.replayed
        )
        == 0
    )
    assert stored_counts(engine) == counted_orders(engine)


def test_batches_and_single_scans_racing_keep_the_counts_exact(container: Container) -> None:
    snos = [shipment_with(container, [C]) for _ in range(10)]
    ingest, recording = container.ingest(), container.recording()
    start = threading.Barrier(4)

    def batch(worker: int) -> None:
        start.wait()
        for round_ in range(5):
            ingest.apply(
                "racer", _batch(container, snos, [PR, EX], offset=50 - 10 * round_ - worker)
            )

    def single(worker: int) -> None:
        start.wait()
        for sno in snos * 2:
            # Refusals and lost races are expected here.
            with contextlib.suppress(ConcurrentUpdate, TransitionRefused):
                recording.record(sno, Scan(EX if worker % 2 else PR, 9))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda w: (batch if w < 2 else single)(w), range(4)))

    for sno in snos:
        shipment = container.shipments().get(sno)
        assert shipment is not None
        assert is_valid_history(shipment.statuses)
        # Ids grow along each history (a read sorts by them), whoever wrote each event.
        times = [event.occurred_at for event in shipment.events]
        ids = [event.id or 0 for event in shipment.events]
        assert times == sorted(times)
        assert ids == sorted(ids)
    engine = container.engine()
    assert stored_counts(engine) == counted_orders(engine)
