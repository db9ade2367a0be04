"""ShipmentRepository.event_count, the version the /query cache checks, on every back end."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logistic.domain.errors import ConcurrentUpdate
from logistic.domain.model import TrackingEvent
from logistic.domain.status import Status
from tests.integration.sql_backends import Backend
from tests.integration.test_shipment_repository_contract import NOW, created, new_shipment


@pytest.mark.parametrize("sno", [1, 0, -1, 2**63, 10**30])
def test_an_unknown_sno_has_no_count(shipment_backend: Backend, sno: int) -> None:
    assert shipment_backend.shipments.event_count(sno) is None


def test_the_count_follows_every_append(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    empty, one = repository.add_many([new_shipment(), new_shipment(created())])
    assert repository.event_count(empty.sno) == 0
    assert repository.event_count(one.sno) == 1

    received = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=1))
    updated = repository.append_event(one.sno, received, expected_events=1)

    assert repository.event_count(one.sno) == len(updated.events) == 2
    with pytest.raises(ConcurrentUpdate):
        repository.append_event(one.sno, received, expected_events=1)
    assert repository.event_count(one.sno) == 2
    assert repository.event_count(empty.sno) == 0
