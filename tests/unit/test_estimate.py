"""When a parcel should arrive: the transit-day rule and the estimate shown to customers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.estimate import (
    estimated_delivery,
    promise_deadline,
    promised_date,
    transit_days,
)
from logistic.domain.model import Location, Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status

TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")  # daylight saving time starts at midnight
ZONES: list[tzinfo] = [TAIPEI, UTC, NEW_YORK, SANTIAGO, timezone(timedelta(hours=-10))]
CENTERS = {location.id: location for location in LOGISTICS_CENTERS}
TAIPEI_CENTER, TAOYUAN, KAOHSIUNG, PENGHU, KINMEN = (CENTERS[i] for i in (2, 3, 13, 17, 18))
SAME_CITY_TWIN = Location(99, "臺北第二物流中心", "臺北市", "臺北市南港區經貿二路1號")
RECIPIENT = Recipient(1, "王小明", "0912345678", "臺北市信義區市府路1號")

created_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
centers = st.sampled_from([*LOGISTICS_CENTERS, SAME_CITY_TWIN])
zones = st.sampled_from(ZONES)


def _shipment(
    created_at: datetime,
    origin: Location,
    destination: Location,
    zone: tzinfo,
    events: tuple[TrackingEvent, ...] = (),
) -> Shipment:
    return Shipment(
        sno=1,
        recipient=RECIPIENT,
        origin_id=origin.id,
        destination_id=destination.id,
        created_at=created_at,
        promised_by=promise_deadline(created_at, origin, destination, zone),
        events=events,
    )


@pytest.mark.parametrize(
    ("origin", "destination", "days"),
    [
        (TAIPEI_CENTER, SAME_CITY_TWIN, 1),
        (TAIPEI_CENTER, TAIPEI_CENTER, 1),
        (TAIPEI_CENTER, TAOYUAN, 2),
        (KAOHSIUNG, TAIPEI_CENTER, 2),
        (TAIPEI_CENTER, PENGHU, 4),
        (KINMEN, KAOHSIUNG, 4),
        (PENGHU, KINMEN, 4),
    ],
)
def test_transit_days_by_route(origin: Location, destination: Location, days: int) -> None:
    assert transit_days(origin, destination) == days


def test_the_outlying_islands_are_penghu_and_kinmen() -> None:
    outlying = {
        location.id for location in LOGISTICS_CENTERS if transit_days(location, TAOYUAN) == 4
    }

    assert outlying == {17, 18}


def test_a_taipei_order_late_in_the_evening_is_promised_from_the_taipei_date() -> None:
    created_at = datetime(2026, 11, 25, 23, 30, tzinfo=TAIPEI)  # 15:30 UTC, same date

    shipment = _shipment(created_at, TAIPEI_CENTER, TAOYUAN, TAIPEI)

    assert promised_date(shipment, TAIPEI) == date(2026, 11, 27)
    assert shipment.promised_by == datetime(2026, 11, 28, 0, 0, tzinfo=TAIPEI)


def test_an_order_just_after_taipei_midnight_counts_from_the_new_day() -> None:
    created_at = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)  # 00:30 on the 26th in Taipei

    shipment = _shipment(created_at, TAIPEI_CENTER, SAME_CITY_TWIN, TAIPEI)

    assert promised_date(shipment, TAIPEI) == date(2026, 11, 27)


@settings(max_examples=300)
@given(created_at=created_moments, origin=centers, destination=centers, zone=zones)
def test_the_promise_is_the_local_creation_date_plus_the_transit_days(
    created_at: datetime, origin: Location, destination: Location, zone: tzinfo
) -> None:
    shipment = _shipment(created_at, origin, destination, zone)
    created_on = created_at.astimezone(zone).date()

    assert promised_date(shipment, zone) == created_on + timedelta(
        days=transit_days(origin, destination)
    )


@settings(max_examples=300)
@given(
    created_at=created_moments,
    origin=centers,
    destination=centers,
    promise_zone=zones,
    shown_zone=zones,
)
def test_an_estimate_never_precedes_the_creation_date(
    created_at: datetime,
    origin: Location,
    destination: Location,
    promise_zone: tzinfo,
    shown_zone: tzinfo,
) -> None:
    shipment = _shipment(created_at, origin, destination, promise_zone)

    assert estimated_delivery(shipment, shown_zone) >= created_at.astimezone(shown_zone).date()
    assert shipment.promised_by > created_at


@settings(max_examples=100)
@given(
    created_at=created_moments,
    hours_to_deliver=st.floats(min_value=0, max_value=24 * 10),
    zone=zones,
)
def test_a_delivered_shipment_is_estimated_on_its_local_delivery_date(
    created_at: datetime, hours_to_deliver: float, zone: tzinfo
) -> None:
    delivered_at = created_at + timedelta(hours=hours_to_deliver)
    events = (
        TrackingEvent(Status.CREATED, TAIPEI_CENTER.id, created_at),
        TrackingEvent(Status.DELIVERED, KAOHSIUNG.id, delivered_at),
    )
    shipment = _shipment(created_at, TAIPEI_CENTER, KAOHSIUNG, zone, events)

    assert estimated_delivery(shipment, zone) == delivered_at.astimezone(zone).date()
    assert estimated_delivery(shipment, zone) >= created_at.astimezone(zone).date()


def test_a_delivery_late_in_the_utc_day_is_the_next_day_in_taipei() -> None:
    created_at = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    delivered_at = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
    events = (
        TrackingEvent(Status.CREATED, TAIPEI_CENTER.id, created_at),
        TrackingEvent(Status.DELIVERED, KAOHSIUNG.id, delivered_at),
    )
    shipment = _shipment(created_at, TAIPEI_CENTER, KAOHSIUNG, TAIPEI, events)

    assert estimated_delivery(shipment, TAIPEI) == date(2026, 11, 26)
    assert estimated_delivery(shipment, UTC) == date(2026, 11, 25)


@pytest.mark.parametrize("status", [Status.EXCEPTION, Status.RETURNED_TO_SENDER])
def test_an_undelivered_shipment_keeps_its_promised_date(status: Status) -> None:
    created_at = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    events = (
        TrackingEvent(Status.CREATED, TAIPEI_CENTER.id, created_at),
        TrackingEvent(status, TAIPEI_CENTER.id, created_at + timedelta(days=5)),
    )
    shipment = _shipment(created_at, TAIPEI_CENTER, PENGHU, TAIPEI, events)

    assert estimated_delivery(shipment, TAIPEI) == date(2026, 11, 29)


def test_the_promise_holds_where_daylight_saving_time_starts_at_midnight() -> None:
    created_at = datetime(2023, 8, 29, 12, 0, tzinfo=SANTIAGO)

    # Clocks jump from 00:00 to 01:00 on 2023-09-03, the day after the promised day.
    shipment = _shipment(created_at, TAIPEI_CENTER, PENGHU, SANTIAGO)

    assert promised_date(shipment, SANTIAGO) == date(2023, 9, 2)
