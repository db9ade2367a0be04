"""The backtest's scoring: coverage of the window, each estimate's error in days, lane groups."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from logistic.domain.backtest import LaneGroup, backtest, lane_group
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.estimate import promise_deadline
from logistic.domain.lanes import Delivery, LaneStats
from logistic.domain.model import Location

TAIPEI = ZoneInfo("Asia/Taipei")
CENTERS = {location.id: location for location in LOGISTICS_CENTERS}
CREATED = datetime(2026, 11, 25, 10, 0, tzinfo=TAIPEI)  # a Wednesday
# Taipei (2) to Kaohsiung (13): the rule promises the 27th; the lane says the 28th, in a
# window of the 27th to the 29th.
LANE = LaneStats(2, 13, 100, 40.0, 74.0, 100.0, CREATED)


def _delivered(day: int, origin: int = 2, destination: int = 13) -> Delivery:
    promised = promise_deadline(CREATED, CENTERS[origin], CENTERS[destination], TAIPEI)
    return Delivery(
        origin, destination, CREATED, promised, datetime(2026, 11, day, 15, 0, tzinfo=TAIPEI)
    )


def test_coverage_and_errors_are_counted_per_order() -> None:
    held_out = [_delivered(28), _delivered(29), _delivered(30), _delivered(26)]

    result = backtest([LANE], held_out, CENTERS, TAIPEI).overall

    assert result.orders == 4
    assert result.coverage == pytest.approx(2 / 4)  # the 28th and 29th are inside
    assert result.mae_days_lane == pytest.approx((0 + 1 + 2 + 2) / 4)
    assert result.mae_days_rule == pytest.approx((1 + 2 + 3 + 1) / 4)
    assert result.from_lanes == 4


def test_a_lane_without_stats_is_scored_with_the_rule() -> None:
    # Taipei to Penghu: no stats; the rule promises four days, the 29th.
    result = backtest([LANE], [_delivered(29, 2, 17)], CENTERS, TAIPEI)

    assert result.overall.from_lanes == 0
    assert result.overall.coverage == 1.0  # from the 26th to the 29th
    assert result.overall.mae_days_lane == result.overall.mae_days_rule == 0
    assert result.by_group[LaneGroup.OUTLYING_ISLANDS].orders == 1
    assert result.by_group[LaneGroup.MAIN_ISLAND].orders == 0


def test_no_held_out_order_gives_no_figure() -> None:
    result = backtest([LANE], [], CENTERS, TAIPEI).overall

    assert (result.orders, result.coverage, result.mae_days_lane, result.mae_days_rule) == (
        0, None, None, None,
    )  # fmt: skip


def test_lanes_are_grouped_as_the_rule_groups_them() -> None:
    twin = Location(99, "臺北第二物流中心", "臺北市", "臺北市南港區經貿二路1號")

    assert lane_group(CENTERS[2], twin) is LaneGroup.SAME_CITY
    assert lane_group(CENTERS[2], CENTERS[13]) is LaneGroup.MAIN_ISLAND
    assert lane_group(CENTERS[18], CENTERS[2]) is LaneGroup.OUTLYING_ISLANDS
    assert lane_group(None, CENTERS[2]) is LaneGroup.MAIN_ISLAND
