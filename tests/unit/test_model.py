"""Shipments and tracking events: time zones, and recording events through the lifecycle."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, tzinfo
from functools import reduce
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import InvalidInput, TransitionRefused
from logistic.domain.history import fake_shipment
from logistic.domain.model import Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status, allowed_next, is_valid_history

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
RECIPIENT = Recipient(1, "王小明", "0912345678", "臺北市信義區市府路1號")


def _shipment(*events: TrackingEvent) -> Shipment:
    return Shipment(
        sno=1,
        recipient=RECIPIENT,
        origin_id=2,
        destination_id=13,
        created_at=NOW,
        promised_by=NOW + timedelta(days=3),
        events=events,
    )


def _event(status: Status, hours: float = 0, location_id: int = 2) -> TrackingEvent:
    return TrackingEvent(status, location_id, NOW + timedelta(hours=hours))


def test_an_event_refuses_a_naive_datetime() -> None:
    with pytest.raises(InvalidInput):
        TrackingEvent(Status.CREATED, 2, datetime(2026, 11, 25, 12, 0))


def test_a_shipment_refuses_a_naive_creation_date() -> None:
    with pytest.raises(InvalidInput):
        Shipment(1, RECIPIENT, 2, 13, datetime(2026, 11, 25), NOW)


def test_an_event_keeps_the_instant_in_utc() -> None:
    event = TrackingEvent(Status.CREATED, 2, datetime(2026, 11, 25, 12, 0, tzinfo=TAIPEI))

    assert event.occurred_at == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.timezones(),
        allow_imaginary=False,
    )
)
def test_any_aware_moment_is_stored_as_the_same_instant_in_utc(moment: datetime) -> None:
    event = TrackingEvent(Status.CREATED, 2, moment)

    # Not `==`: Python never equates an ambiguous local time with a time in another zone.
    assert event.occurred_at.timestamp() == moment.timestamp()
    assert event.occurred_at.utcoffset() == timedelta(0)


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: such a datetime is naive in all but name."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_an_event_refuses_a_time_zone_without_an_offset() -> None:
    with pytest.raises(InvalidInput):
        TrackingEvent(Status.CREATED, 2, datetime(2026, 11, 25, 12, 0, tzinfo=_NoOffset()))


def test_recording_appends_the_event_and_leaves_the_original_alone() -> None:
    created = _shipment(_event(Status.CREATED))

    received = created.record(_event(Status.PACKAGE_RECEIVED, hours=2))

    assert received.statuses == (Status.CREATED, Status.PACKAGE_RECEIVED)
    assert created.statuses == (Status.CREATED,)


def test_an_event_at_the_same_instant_as_the_last_is_accepted() -> None:
    created = _shipment(_event(Status.CREATED, hours=1))

    assert created.record(_event(Status.PACKAGE_RECEIVED, hours=1)).current_status is (
        Status.PACKAGE_RECEIVED
    )


def test_an_event_dated_before_the_last_is_refused() -> None:
    received = _shipment(_event(Status.CREATED), _event(Status.PACKAGE_RECEIVED, hours=5))

    with pytest.raises(TransitionRefused) as refused:
        received.record(_event(Status.IN_TRANSIT, hours=4))

    assert refused.value.current == Status.PACKAGE_RECEIVED
    assert received.statuses == (Status.CREATED, Status.PACKAGE_RECEIVED)


def test_a_forbidden_transition_is_refused_with_what_is_allowed() -> None:
    created = _shipment(_event(Status.CREATED))

    with pytest.raises(TransitionRefused) as refused:
        created.record(_event(Status.IN_TRANSIT, hours=1))

    assert refused.value.current == Status.CREATED
    assert set(refused.value.allowed) == {Status.PACKAGE_RECEIVED, Status.EXCEPTION}
    assert created.statuses == (Status.CREATED,)


def test_an_empty_shipment_accepts_only_created() -> None:
    with pytest.raises(TransitionRefused) as refused:
        _shipment().record(_event(Status.PACKAGE_RECEIVED))

    assert refused.value.current is None
    assert refused.value.allowed == (Status.CREATED,)


def test_a_delivered_shipment_knows_when() -> None:
    delivered = _shipment(
        _event(Status.CREATED),
        _event(Status.PACKAGE_RECEIVED, 1),
        _event(Status.IN_TRANSIT, 10, location_id=13),
        _event(Status.OUT_FOR_DELIVERY, 20, location_id=13),
        _event(Status.DELIVERED, 22, location_id=13),
    )

    assert delivered.delivered_at == NOW + timedelta(hours=22)
    assert delivered.current_location_id == 13
    assert _shipment(_event(Status.CREATED)).delivered_at is None


@settings(max_examples=200)
@given(seed=st.integers(min_value=0, max_value=2**64))
def test_replaying_a_fake_history_gives_its_last_status(seed: int) -> None:
    plan = fake_shipment(random.Random(seed), LOGISTICS_CENTERS, NOW)
    empty = _shipment()

    replayed = reduce(Shipment.record, plan.events, empty)

    assert replayed.current_status is plan.events[-1].status
    assert replayed.events == plan.events
    assert empty.events == ()


@settings(max_examples=200)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(list(Status)), st.floats(min_value=-5, max_value=48)),
        min_size=1,
        max_size=12,
    )
)
def test_record_accepts_exactly_what_the_lifecycle_and_the_clock_allow(
    steps: list[tuple[Status, float]],
) -> None:
    shipment = _shipment()
    at = NOW
    for status, hours in steps:
        event = TrackingEvent(status, 2, at + timedelta(hours=hours))
        expected = status in allowed_next(shipment.statuses) and (
            shipment.last_event_at is None or event.occurred_at >= shipment.last_event_at
        )
        before = shipment.events
        try:
            shipment = shipment.record(event)
        except TransitionRefused:
            assert not expected
            assert shipment.events == before
        else:
            assert expected
            at = event.occurred_at
        assert is_valid_history(shipment.statuses) or shipment.events == ()
