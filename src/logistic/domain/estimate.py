"""When a parcel should arrive.

The rule (also in the README): a shipment is promised for the creation date
(in the service's time zone) plus the route's transit days:

* same city: 1 day;
* between two main-island cities: 2 days;
* to or from an outlying island (Penghu, Kinmen): 4 days.

A delivered shipment's estimate is the date it was delivered. A shipment in
Exception or Returned to Sender keeps its promised date: the promise was made
and the report's on-time rate measures it.
"""

from __future__ import annotations

from datetime import date, timedelta, tzinfo

from logistic.domain.model import Location, Region, Shipment

SAME_CITY_DAYS = 1
MAIN_ISLAND_DAYS = 2
OUTLYING_ISLAND_DAYS = 4


def transit_days(origin: Location, destination: Location) -> int:
    if Region.OUTLYING_ISLANDS in (origin.region, destination.region):
        return OUTLYING_ISLAND_DAYS if origin.city != destination.city else SAME_CITY_DAYS
    if origin.city == destination.city:
        return SAME_CITY_DAYS
    return MAIN_ISLAND_DAYS


def promised_date(
    shipment: Shipment, origin: Location, destination: Location, zone: tzinfo
) -> date:
    created = shipment.created_at.astimezone(zone).date()
    return created + timedelta(days=transit_days(origin, destination))


def estimated_delivery(
    shipment: Shipment, origin: Location, destination: Location, zone: tzinfo
) -> date:
    delivered = shipment.delivered_at
    if delivered is not None:
        return delivered.astimezone(zone).date()
    return promised_date(shipment, origin, destination, zone)
