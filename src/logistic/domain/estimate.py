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
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from logistic.domain.model import Location, Region, Shipment

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
    # Step back in UTC, not on the local wall clock, which can skip an hour at midnight.
    last_moment = shipment.promised_by.astimezone(UTC) - timedelta(microseconds=1)
    return last_moment.astimezone(zone).date()


def estimated_delivery(shipment: Shipment, zone: tzinfo) -> date:
    delivered = shipment.delivered_at
    if delivered is not None:
        return delivered.astimezone(zone).date()
    return promised_date(shipment, zone)
