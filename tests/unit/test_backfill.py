"""`logistic ingest`'s loop (entrypoints/backfill.py) on a container kept in memory."""

from __future__ import annotations

import io
import json
from collections.abc import Collection
from datetime import timedelta

import pytest
from dependency_injector import providers

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.container import Container
from logistic.domain.errors import DomainError, StorageUnavailable
from logistic.domain.model import Shipment
from logistic.domain.status import Status
from logistic.entrypoints.backfill import BATCH, ingest_lines
from logistic.ports.repositories import Decide, MessagesFor
from tests.unit.conftest import NOW
from tests.unit.scans import shipment_with, statuses

C, PR, IT = Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT


def line(sno: int, status: Status, minutes: int) -> str:
    moment = (NOW - timedelta(minutes=60 - minutes)).isoformat()
    return json.dumps({"sno": sno, "status": status.value, "location_id": 3, "occurred_at": moment})


def test_lines_go_in_batches_and_bad_ones_are_reported_by_number(container: Container) -> None:
    sno = shipment_with(container, [C])
    lines = [line(sno, PR, 1), *(line(sno, IT, 2) for _ in range(BATCH)), "[1]", line(sno, C, 3)]
    errors, shown = io.StringIO(), io.StringIO()

    tally = ingest_lines(container, lines, len(lines), errors, shown)

    assert (tally.applied, tally.replayed, tally.skipped) == (BATCH + 1, 0, 2)
    assert errors.getvalue().splitlines() == [
        f"line {BATCH + 2}: skipped: an event is a JSON object such as " + json.dumps(
            {"sno": "3", "status": "In Transit", "location_id": 3,
             "occurred_at": "2026-11-25T08:30:00+08:00"}
        ),
        f"line {BATCH + 3}: skipped: sno {sno}: Created cannot follow In Transit (409)",
    ]  # fmt: skip
    assert statuses(container, sno) == [C, PR, *[IT] * BATCH]
    assert f"ingesting: {len(lines)}/{len(lines)} (100%)" in shown.getvalue()


class FailingSecondBatch(MemoryShipmentRepository):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def append_events(
        self,
        snos: Collection[int],
        keys: Collection[str],
        decide: Decide,
        messages: MessagesFor | None = None,
    ) -> dict[int, Shipment]:
        self.batches += 1
        if self.batches == 2:
            raise StorageUnavailable("the database went away")
        return super().append_events(snos, keys, decide, messages)


def test_a_database_failure_names_the_first_line_not_applied(container: Container) -> None:
    failing = FailingSecondBatch()
    container.shipments.override(providers.Object(failing))
    sno = shipment_with(container, [C])
    lines = ["", line(sno, PR, 1), *(line(sno, IT, 2) for _ in range(BATCH + 5))]

    with pytest.raises(DomainError, match=f"lines before {BATCH + 2} were applied"):
        ingest_lines(container, lines, len(lines), io.StringIO(), io.StringIO())

    assert len(statuses(container, sno)) == 1 + BATCH
