"""When a parcel should arrive.

The rule (also in the README): a shipment is promised for its creation date
(in the service's time zone) plus the route's transit days:

* same city: 1 day;
* between two main-island cities: 2 days;
* to or from an outlying island (Penghu, Kinmen): 4 days.

The promise is fixed when the order is created and stored as `promised_by`,
the instant the promised day ends (so "on time" is `delivered_at < promised_by`,
a comparison any database can make with an index).

A delivered shipment's estimate is the date it was delivered. A shipment in
Exception or Returned to Sender keeps its promised date: the promise was made
and the report's on-time rate measures it.

What a customer is shown is learned from the lane instead (`estimate`), when the
lane has enough deliveries: the date by which its median transit would deliver,
in a window of its 5th to 95th percentiles. The promise above stays what the
report's on-time rate measures. See docs/estimate.md.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from attrs import frozen

from logistic.domain.lanes import LaneStats
from logistic.domain.model import Location, Region, Shipment

# The share of a lane's deliveries its window holds (its 5th to 95th percentile).
WINDOW_CONFIDENCE = 0.9
# A window is whole days, and its edge days count whole: taken as they are, the days of
# the 5th and 95th percentiles hold far more than nine deliveries in ten (parcels arrive
# in the daytime). Each percentile is moved this far inwards before its day is taken,
# so the window holds as often as it says: calibrated by `logistic backtest-estimate`
# (docs/estimate.md).
EDGE_SHIFT = timedelta(hours=9)

SAME_CITY_DAYS = 1
MAIN_ISLAND_DAYS = 2
OUTLYING_ISLAND_DAYS = 4


def transit_days(origin: Location, destination: Location) -> int:
    if origin.city == destination.city:
        return SAME_CITY_DAYS
    if Region.OUTLYING_ISLANDS in (origin.region, destination.region):
        return OUTLYING_ISLAND_DAYS
    return MAIN_ISLAND_DAYS


def promise_deadline(
    created_at: datetime, origin: Location, destination: Location, zone: tzinfo
) -> datetime:
    """The UTC instant at which the promised delivery day ends, in `zone`."""
    days = transit_days(origin, destination)
    promised = created_at.astimezone(zone).date() + timedelta(days=days)
    day_after = datetime.combine(promised + timedelta(days=1), time(), tzinfo=zone)
    return day_after.astimezone(UTC)


def promised_date(shipment: Shipment, zone: tzinfo) -> date:
    return _last_day(shipment.promised_by, zone)


def estimated_delivery(shipment: Shipment, zone: tzinfo) -> date:
    delivered = shipment.delivered_at
    if delivered is not None:
        return delivered.astimezone(zone).date()
    return promised_date(shipment, zone)


class EstimateSource(enum.StrEnum):
    """Where an estimate came from: the lane's delivered orders, or the fixed rule."""

    LANE = "lane"
    RULE = "rule"


@frozen
class Estimate:
    """The day a parcel should arrive, and the window it arrives in nine times in ten."""

    delivery: date
    earliest: date
    latest: date
    source: EstimateSource


def lane_estimate(
    created_at: datetime, promised_by: datetime, lane: LaneStats | None, zone: tzinfo
) -> Estimate:
    """The estimate made for an order created at `created_at` on a lane with `lane`'s stats.

    Without reliable stats (fewer than MIN_DELIVERIES), the fixed rule: the promised
    date, in a window from the day after creation to it.
    """
    if lane is None or not lane.reliable:
        promised = _last_day(promised_by, zone)
        after_creation = created_at.astimezone(zone).date() + timedelta(days=1)
        return Estimate(promised, min(after_creation, promised), promised, EstimateSource.RULE)
    delivery = (created_at + timedelta(hours=lane.p50_hours)).astimezone(zone).date()
    earliest = (created_at + timedelta(hours=lane.p05_hours) + EDGE_SHIFT).astimezone(zone).date()
    latest = (created_at + timedelta(hours=lane.p95_hours) - EDGE_SHIFT).astimezone(zone).date()
    return Estimate(delivery, min(earliest, delivery), max(latest, delivery), EstimateSource.LANE)


def estimate(shipment: Shipment, lane: LaneStats | None, zone: tzinfo) -> Estimate:
    """What a customer is shown: `lane_estimate`, or once delivered the delivery date
    (in all three places; the source says what the estimate was made from)."""
    made = lane_estimate(shipment.created_at, shipment.promised_by, lane, zone)
    delivered = shipment.delivered_at
    if delivered is None:
        return made
    day = delivered.astimezone(zone).date()
    return Estimate(day, day, day, made.source)


def _last_day(instant: datetime, zone: tzinfo) -> date:
    # Step back in UTC, not on the local wall clock, which can skip an hour at midnight.
    last_moment = instant.astimezone(UTC) - timedelta(microseconds=1)
    return last_moment.astimezone(zone).date()
