"""The lane estimate: its date, its window, its fallback to the rule, and its lane stats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.estimate import (
    EDGE_SHIFT,
    EstimateSource,
    estimate,
    lane_estimate,
    promise_deadline,
)
from logistic.domain.lanes import MIN_DELIVERIES, LaneStats, lane_stats
from logistic.domain.model import Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status

TAIPEI = ZoneInfo("Asia/Taipei")
CENTERS = {location.id: location for location in LOGISTICS_CENTERS}
# Wednesday 25 November 2026, 10:00 in Taipei.
CREATED = datetime(2026, 11, 25, 10, 0, tzinfo=TAIPEI)
PROMISED = promise_deadline(CREATED, CENTERS[2], CENTERS[13], TAIPEI)  # 2 days: the 27th
LANE = LaneStats(2, 13, 200, 20.0, 50.0, 100.0, CREATED)


def test_the_lane_estimate_is_the_day_of_the_median_transit() -> None:
    made = lane_estimate(CREATED, PROMISED, LANE, TAIPEI)

    # +50 h: Friday 27th, 12:00.
    assert made.delivery == date(2026, 11, 27)
    assert made.source is EstimateSource.LANE


def test_the_window_runs_from_the_day_of_each_percentile_moved_inwards() -> None:
    made = lane_estimate(CREATED, PROMISED, LANE, TAIPEI)

    # p05 +20 h is the 26th at 06:00, +9 h still the 26th; p95 +100 h is the 29th at
    # 14:00, -9 h still the 29th.
    assert timedelta(hours=9) == EDGE_SHIFT
    assert (made.earliest, made.latest) == (date(2026, 11, 26), date(2026, 11, 29))


def test_a_percentile_late_or_early_in_its_day_moves_the_edge_a_day_inwards() -> None:
    lane = LaneStats(2, 13, 200, 26.0, 50.0, 91.0, CREATED)  # 26th 12:00, 29th 05:00

    made = lane_estimate(CREATED, PROMISED, lane, TAIPEI)

    # 26th 21:00 is still the 26th, but 29th 05:00 - 9 h is the 28th.
    assert (made.earliest, made.latest) == (date(2026, 11, 26), date(2026, 11, 28))
    later = LaneStats(2, 13, 200, 29.0, 50.0, 100.0, CREATED)  # 26th 15:00: +9 h the 27th
    assert lane_estimate(CREATED, PROMISED, later, TAIPEI).earliest == date(2026, 11, 27)


def test_a_narrow_lane_still_holds_its_own_date() -> None:
    lane = LaneStats(2, 13, 200, 49.0, 50.0, 51.0, CREATED)

    made = lane_estimate(CREATED, PROMISED, lane, TAIPEI)

    assert made.earliest == made.delivery == made.latest == date(2026, 11, 27)


@pytest.mark.parametrize("lane", [None, LaneStats(2, 13, MIN_DELIVERIES - 1, 1, 2, 3, CREATED)])
def test_a_lane_with_too_few_deliveries_gets_the_rule(lane: LaneStats | None) -> None:
    made = lane_estimate(CREATED, PROMISED, lane, TAIPEI)

    assert made.source is EstimateSource.RULE
    assert made.delivery == date(2026, 11, 27)  # the promise
    assert (made.earliest, made.latest) == (date(2026, 11, 26), date(2026, 11, 27))


def test_thirty_deliveries_are_enough() -> None:
    lane = LaneStats(2, 13, MIN_DELIVERIES, 20, 50, 100, CREATED)

    assert lane_estimate(CREATED, PROMISED, lane, TAIPEI).source is EstimateSource.LANE


def _shipment(*events: TrackingEvent) -> Shipment:
    recipient = Recipient(1, "王小明", "0912345678", "臺北市")
    return Shipment(1, recipient, 2, 13, CREATED, PROMISED, events)


def test_a_delivered_parcel_keeps_its_delivery_date() -> None:
    delivered_at = datetime(2026, 12, 3, 15, 0, tzinfo=TAIPEI)
    shipment = _shipment(
        TrackingEvent(Status.CREATED, 2, CREATED),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, CREATED + timedelta(hours=1)),
        TrackingEvent(Status.IN_TRANSIT, 13, CREATED + timedelta(hours=20)),
        TrackingEvent(Status.OUT_FOR_DELIVERY, 13, delivered_at - timedelta(hours=2)),
        TrackingEvent(Status.DELIVERED, 13, delivered_at),
    )

    shown = estimate(shipment, LANE, TAIPEI)

    day = date(2026, 12, 3)
    assert (shown.delivery, shown.earliest, shown.latest) == (day, day, day)
    assert shown.source is EstimateSource.LANE


def test_a_parcel_on_its_way_gets_the_lane_estimate() -> None:
    shipment = _shipment(TrackingEvent(Status.CREATED, 2, CREATED))

    assert estimate(shipment, LANE, TAIPEI) == lane_estimate(CREATED, PROMISED, LANE, TAIPEI)


transits = st.floats(min_value=0, max_value=500, allow_nan=False)


@given(
    created=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
    hours=st.lists(transits, min_size=3, max_size=3).map(sorted),
    zone=st.sampled_from([TAIPEI, UTC, ZoneInfo("America/Santiago")]),
)
def test_the_window_always_holds_the_estimate_and_starts_after_creation(
    created: datetime, hours: list[float], zone: tzinfo
) -> None:
    lane = LaneStats(2, 13, 100, hours[0], hours[1], hours[2], created)

    made = lane_estimate(created, created + timedelta(days=2), lane, zone)

    assert made.earliest <= made.delivery <= made.latest
    assert made.earliest >= created.astimezone(zone).date()


def test_lane_stats_come_from_hour_rows_in_any_order() -> None:
    at = CREATED
    rows = [(2, 13, 30, 5), (7, 2, 10, 1), (2, 13, 20, 5), (2, 13, 40, 10)]

    stats = lane_stats(rows, at)

    assert [each.lane for each in stats] == [(2, 13), (7, 2)]
    busy, single = stats
    assert busy.deliveries == 20
    # Each order counts at the middle of its hour: 20.5, 30.5, 40.5.
    assert busy.p05_hours == pytest.approx(20.5, abs=0.02)
    assert busy.p50_hours == pytest.approx(35.5, abs=0.02)
    assert busy.p95_hours == pytest.approx(40.5, abs=0.02)
    assert (single.deliveries, single.computed_at) == (1, at)
    assert single.p05_hours == single.p50_hours == single.p95_hours == pytest.approx(10.5, abs=0.02)
