"""How well the lane estimate would have done: scored on delivered orders it never saw.

Each held-out order gets the estimate it would have been shown at creation, from
stats computed before the test period (`lane_estimate`), and the fixed rule's
promised date. The window's coverage is the share delivered on a day inside it;
each estimate's error is the whole days between its date and the delivery date.
Lanes are grouped as the rule groups them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import tzinfo

from attrs import evolve, frozen

from logistic.domain.estimate import lane_estimate
from logistic.domain.lanes import Delivery, LaneStats
from logistic.domain.model import Location, Region


class LaneGroup(enum.StrEnum):
    """The rule's three kinds of lane."""

    SAME_CITY = "same city"
    MAIN_ISLAND = "main island"
    OUTLYING_ISLANDS = "outlying islands"


def lane_group(origin: Location | None, destination: Location | None) -> LaneGroup:
    if origin is None or destination is None:
        return LaneGroup.MAIN_ISLAND  # a centre since removed: the rule's default
    if origin.city == destination.city:
        return LaneGroup.SAME_CITY
    if Region.OUTLYING_ISLANDS in (origin.region, destination.region):
        return LaneGroup.OUTLYING_ISLANDS
    return LaneGroup.MAIN_ISLAND


@frozen
class Score:
    """Sums over some held-out orders; the figures are their means (None without orders)."""

    orders: int = 0
    covered: int = 0
    lane_error_days: int = 0
    rule_error_days: int = 0
    from_lanes: int = 0

    @property
    def coverage(self) -> float | None:
        return self.covered / self.orders if self.orders else None

    @property
    def mae_days_lane(self) -> float | None:
        return self.lane_error_days / self.orders if self.orders else None

    @property
    def mae_days_rule(self) -> float | None:
        return self.rule_error_days / self.orders if self.orders else None

    def plus(self, covered: bool, lane_error: int, rule_error: int, from_lane: bool) -> Score:
        return evolve(
            self,
            orders=self.orders + 1,
            covered=self.covered + covered,
            lane_error_days=self.lane_error_days + lane_error,
            rule_error_days=self.rule_error_days + rule_error,
            from_lanes=self.from_lanes + from_lane,
        )


@frozen
class Backtest:
    """The score over every held-out order, and by lane group."""

    overall: Score
    by_group: Mapping[LaneGroup, Score]


def backtest(
    stats: Iterable[LaneStats],
    held_out: Iterable[Delivery],
    locations: Mapping[int, Location],
    zone: tzinfo,
) -> Backtest:
    by_lane = {each.lane: each for each in stats}
    overall = Score()
    groups = dict.fromkeys(LaneGroup, Score())
    for order in held_out:
        lane = (order.origin_id, order.destination_id)
        made = lane_estimate(order.created_at, order.promised_by, by_lane.get(lane), zone)
        rule = lane_estimate(order.created_at, order.promised_by, None, zone)
        delivered = order.delivered_at.astimezone(zone).date()
        covered = made.earliest <= delivered <= made.latest
        lane_error = abs((made.delivery - delivered).days)
        rule_error = abs((rule.delivery - delivered).days)
        from_lane = made.source != rule.source
        overall = overall.plus(covered, lane_error, rule_error, from_lane)
        group = lane_group(locations.get(order.origin_id), locations.get(order.destination_id))
        groups[group] = groups[group].plus(covered, lane_error, rule_error, from_lane)
    return Backtest(overall, groups)
