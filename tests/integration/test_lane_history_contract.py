"""The LaneHistory contract, on memory, SQLite and MariaDB (both drivers).

Generated orders checked against percentiles computed in Python, and hand-made
orders at the edges of the window; replacing and reading the stored stats; the
held-out deliveries the backtest reads.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import pytest

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.adapters.memory_lanes import MemoryLaneHistory
from logistic.adapters.sql.lanes import SqlLaneHistory
from logistic.domain.history import PlannedShipment
from logistic.domain.lanes import LANE_WINDOW, Delivery, LaneStats
from logistic.domain.model import Contact, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.lanes import LaneHistory
from logistic.ports.repositories import NewShipment
from tests.integration.sql_backends import Backend
from tests.reporting import TAIPEI, exact_percentile, generated_orders

SEEDED_AT = datetime(2026, 11, 25, 8, 0, tzinfo=TAIPEI)
# Whole hours, each order counted at the middle of its hour, figures rounded to 0.01 h.
TOLERANCE = 0.5 + 1 / 60 + 0.005
HOUR = timedelta(hours=1)


def lane_history(backend: Backend) -> LaneHistory:
    if backend.engine is None:
        assert isinstance(backend.shipments, MemoryShipmentRepository)
        return MemoryLaneHistory(backend.shipments)
    return SqlLaneHistory(backend.engine)


def _delivered(
    origin: int, destination: int, created_at: datetime, transit: timedelta
) -> NewShipment:
    delivered_at = created_at + transit
    events = (
        TrackingEvent(Status.CREATED, origin, created_at),
        TrackingEvent(Status.PACKAGE_RECEIVED, origin, created_at + transit / 4),
        TrackingEvent(Status.IN_TRANSIT, destination, created_at + transit / 2),
        TrackingEvent(Status.OUT_FOR_DELIVERY, destination, delivered_at - transit / 8),
        TrackingEvent(Status.DELIVERED, destination, delivered_at),
    )
    plan = PlannedShipment(origin, destination, created_at, events)
    return NewShipment(Contact("王小明", "0912345678", "臺北市"), plan, created_at + 2 * 24 * HOUR)


def _in_python(shipments: list[Shipment], as_of: datetime) -> dict[tuple[int, int], list[float]]:
    hours: dict[tuple[int, int], list[float]] = defaultdict(list)
    for order in shipments:
        at = order.delivered_at
        if at is not None and as_of - LANE_WINDOW < at <= as_of:
            hours[(order.origin_id, order.destination_id)].append(
                (at - order.created_at).total_seconds() / 3600
            )
    return hours


@pytest.mark.parametrize(
    "as_of",
    [SEEDED_AT, SEEDED_AT - timedelta(days=3, hours=5), SEEDED_AT - timedelta(days=30)],
    ids=["when-seeded", "three-days-before", "before-any-delivery"],
)
def test_each_lane_gets_the_percentiles_python_computes(
    shipment_backend: Backend, as_of: datetime
) -> None:
    stored = shipment_backend.shipments.add_many(generated_orders(600, seed=5, now=SEEDED_AT))

    stats = lane_history(shipment_backend).compute(as_of, LANE_WINDOW)

    expected = _in_python(stored, as_of)
    assert [each.lane for each in stats] == sorted(expected)
    for each in stats:
        hours = expected[each.lane]
        assert each.deliveries == len(hours)
        assert each.computed_at == as_of
        for level, value in ((0.05, each.p05_hours), (0.5, each.p50_hours), (0.95, each.p95_hours)):
            assert value == pytest.approx(exact_percentile(hours, level), abs=TOLERANCE), level
        assert each.p05_hours <= each.p50_hours <= each.p95_hours


def test_only_deliveries_of_the_window_before_as_of_count(shipment_backend: Backend) -> None:
    as_of = datetime(2026, 11, 25, 0, 0, tzinfo=TAIPEI)
    transit = 30 * HOUR
    made = [
        # delivered just inside the window's two ends, and just outside each
        _delivered(2, 7, as_of - transit, transit),  # at as_of: counted
        _delivered(2, 7, as_of - LANE_WINDOW + HOUR - transit, transit),  # counted
        _delivered(2, 7, as_of - LANE_WINDOW - transit, transit),  # at the start: not
        _delivered(2, 7, as_of + HOUR - transit, transit),  # after as_of: not
        _delivered(7, 2, as_of - 50 * HOUR, 10 * HOUR),  # another lane, the other way
    ]
    shipment_backend.shipments.add_many(made)

    stats = lane_history(shipment_backend).compute(as_of, LANE_WINDOW)

    assert [(each.lane, each.deliveries) for each in stats] == [((2, 7), 2), ((7, 2), 1)]
    assert stats[0].p50_hours == pytest.approx(30.5, abs=0.02)  # the middle of its hour
    assert stats[1].p05_hours == stats[1].p95_hours == pytest.approx(10.5, abs=0.02)


def test_nothing_delivered_gives_no_lane(shipment_backend: Backend) -> None:
    assert lane_history(shipment_backend).compute(SEEDED_AT, LANE_WINDOW) == ()


def test_replaced_stats_are_read_back_whole(shipment_backend: Backend) -> None:
    lanes = lane_history(shipment_backend)
    first = (
        LaneStats(7, 2, 40, 20.25, 30.5, 70.75, SEEDED_AT),
        LaneStats(2, 7, 31, 10.0, 12.5, 48.0, SEEDED_AT),
    )
    later = SEEDED_AT + timedelta(hours=8)
    second = (LaneStats(3, 17, 120, 50.5, 70.0, 101.25, later),)
    assert lanes.stored() == ()

    lanes.replace(first)
    assert lanes.stored() == (first[1], first[0])  # sorted by lane

    lanes.replace(second)
    assert lanes.stored() == second

    lanes.replace(())
    assert lanes.stored() == ()


def test_the_held_out_deliveries_are_those_created_and_delivered_in_time(
    shipment_backend: Backend,
) -> None:
    start = datetime(2026, 11, 10, 0, 0, tzinfo=TAIPEI)
    end = start + timedelta(days=14)
    shipment_backend.shipments.add_many(
        [
            _delivered(2, 7, start + 5 * HOUR, 40 * HOUR),  # in
            _delivered(2, 17, start + 2 * HOUR, 70 * HOUR),  # in, created earlier
            _delivered(2, 7, start, 20 * HOUR),  # created at the start: out
            _delivered(2, 7, end - HOUR, 2 * HOUR),  # delivered after the end: out
            _delivered(2, 7, end - 3 * HOUR, 3 * HOUR),  # delivered at the end: in
        ]
    )

    held_out = lane_history(shipment_backend).deliveries(start, end, end)

    assert held_out == [
        Delivery(2, 17, start + 2 * HOUR, start + 2 * HOUR + 48 * HOUR, start + 72 * HOUR),
        Delivery(2, 7, start + 5 * HOUR, start + 5 * HOUR + 48 * HOUR, start + 45 * HOUR),
        Delivery(2, 7, end - 3 * HOUR, end + 45 * HOUR, end),
    ]
