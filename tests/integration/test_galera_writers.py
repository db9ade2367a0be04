"""Eight writers on shared shipments through two Galera nodes: certification failures
(1213 at COMMIT) are run again, histories stay valid, the counts exact."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate, IdempotencyConflict, TransitionRefused
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status, is_valid_history
from logistic.ports.repositories import NewShipment
from logistic.services.events import Scan
from logistic.settings import Settings
from tests.integration.galera import GaleraCluster

pytestmark = pytest.mark.galera

WRITERS = 8
ROUNDS = 12
SHARED = 3


@pytest.fixture
def containers(galera_cluster: GaleraCluster, tmp_path: Path) -> Iterator[list[Container]]:
    """Two API processes' containers, on nodes 1 and 2 of one migrated database."""
    with galera_cluster.database("writers") as name:
        made = []
        for index in (1, 2):
            settings = Settings.from_environ(
                {
                    "LOGISTIC_HOME": str(tmp_path / f"api{index}"),
                    "LOGISTIC_DATABASE_URL": galera_cluster.node(index).url(name),
                }
            )
            made.append(Container(settings=settings))
        made[0].upgrade()
        made[0].location_catalog().sync(LOGISTICS_CENTERS)
        try:
            yield made
        finally:
            for container in made:
                container.shutdown_resources()


def _new_order(container: Container) -> int:
    now = container.clock().now()
    created = TrackingEvent(Status.CREATED, 2, now - timedelta(hours=1))
    plan = PlannedShipment(2, 17, created.occurred_at, (created,))
    contact = Contact("李小明", "0966123401", "澎湖縣馬公市中正路200號")
    new = NewShipment(contact, plan, promised_by=now + timedelta(days=3))
    return container.shipments().add_many([new])[0].sno


def test_eight_writers_through_two_nodes_leave_valid_histories_and_exact_counts(
    containers: list[Container], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="logistic.adapters.sql.transactions")
    shared = [_new_order(containers[0]) for _ in range(SHARED)]
    start = threading.Barrier(WRITERS)
    recorded: list[tuple[int, int]] = []  # (sno, event id) of every event acknowledged
    faked: list[int] = []

    def write(worker: int) -> Counter[str]:
        container = containers[worker % 2]
        chance = random.Random(worker)
        outcomes: Counter[str] = Counter()
        start.wait()
        for round_ in range(ROUNDS):
            sno = chance.choice(shared)
            status = Status.PACKAGE_RECEIVED if round_ == 0 else Status.IN_TRANSIT
            try:
                done = container.recording().record(sno, Scan(status, chance.choice((5, 7, 13))))
            except (ConcurrentUpdate, TransitionRefused):
                outcomes["refused"] += 1
            else:
                recorded.append((sno, done.shipment.events[-1].id or 0))
                outcomes["recorded"] += 1
            faked.extend(shipment.sno for shipment in container.fake_orders().create(2))
            try:
                claim = container.idempotency_keys().claim(
                    f"{round_:064x}", "f" * 64, container.clock().now(), timedelta(seconds=60)
                )
            except IdempotencyConflict:
                outcomes["claim held"] += 1
            else:
                outcomes["claimed" if claim is None else "answered"] += 1
        return outcomes

    with ThreadPoolExecutor(WRITERS) as pool:
        totals = sum(pool.map(write, range(WRITERS)), Counter[str]())

    assert totals["recorded"] >= SHARED
    assert totals["claimed"] == ROUNDS  # one claim per key, whichever node took it
    reader = containers[1].shipments()
    for sno in shared:
        shipment = reader.get(sno)
        assert shipment is not None
        assert is_valid_history(shipment.statuses)
        ids = [event.id for event in shipment.events]
        assert ids == sorted(ids)
        assert reader.event_count(sno) == len(shipment.events)
    events_by_sno = {}
    for sno in shared:
        shipment = reader.get(sno)
        assert shipment is not None
        events_by_sno[sno] = {event.id for event in shipment.events}
    assert all(event_id in events_by_sno[sno] for sno, event_id in recorded)
    assert sum(len(ids) - 1 for ids in events_by_sno.values()) == totals["recorded"]
    assert len(set(faked)) == WRITERS * ROUNDS * 2
    assert all(reader.get(sno) is not None for sno in faked)
    assert containers[0].recount().corrected == 0
    assert containers[1].recount().corrected == 0
    failed = [record.args[0] for record in caplog.records if isinstance(record.args, tuple)]
    # The figures docs/operations.md gives (-s shows them).
    print(
        f"\n{len(failed)} attempts rolled back; most attempts of one: {max(failed, default=0) + 1}"
    )
