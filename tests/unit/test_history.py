"""The fake-history generator: valid, dated, reproducible, and as mixed as the original."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.history import CREATION_WINDOW, PlannedShipment, fake_shipment
from logistic.domain.model import Location
from logistic.domain.status import Status, is_valid_history

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)

seeds = st.integers(min_value=0, max_value=2**64)
ZONES = ["Asia/Taipei", "Europe/London", "America/New_York", "America/Santiago"]
nows = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-3))])
    | st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
    allow_imaginary=False,
)
catalogs = st.lists(
    st.sampled_from(LOGISTICS_CENTERS), min_size=2, max_size=len(LOGISTICS_CENTERS), unique=True
)


def _plan(seed: int, now: datetime, locations: Sequence[Location]) -> PlannedShipment:
    return fake_shipment(random.Random(seed), locations, now)


@settings(max_examples=300)
@given(seed=seeds, now=nows)
def test_every_fake_history_is_a_valid_lifecycle(seed: int, now: datetime) -> None:
    plan = _plan(seed, now, LOGISTICS_CENTERS)

    assert is_valid_history(event.status for event in plan.events)


@settings(max_examples=300)
@given(seed=seeds, now=nows)
def test_fake_events_are_in_order_and_not_in_the_future(seed: int, now: datetime) -> None:
    plan = _plan(seed, now, LOGISTICS_CENTERS)
    moments = [event.occurred_at for event in plan.events]

    assert all(earlier <= later for earlier, later in pairwise(moments))
    assert all(moment <= now for moment in moments)


@settings(max_examples=300)
@given(seed=seeds, now=nows)
def test_a_fake_history_starts_with_created_at_the_creation(seed: int, now: datetime) -> None:
    plan = _plan(seed, now, LOGISTICS_CENTERS)
    first = plan.events[0]

    assert first.status is Status.CREATED
    assert first.occurred_at == plan.created_at
    assert first.location_id == plan.origin_id
    # The window is six days of elapsed time: in UTC, as a local wall clock skips or
    # repeats an hour across a daylight-saving change.
    assert now.astimezone(UTC) - CREATION_WINDOW <= plan.created_at <= now


@settings(max_examples=300)
@given(seed=seeds, now=nows, locations=catalogs)
def test_a_parcel_hops_through_distinct_centers(
    seed: int, now: datetime, locations: list[Location]
) -> None:
    plan = _plan(seed, now, locations)
    hops = [event.location_id for event in plan.events if event.status is Status.IN_TRANSIT]
    known = {location.id for location in locations}

    assert plan.origin_id != plan.destination_id
    assert plan.origin_id not in hops
    assert len(hops) == len(set(hops))
    assert {plan.origin_id, plan.destination_id, *hops} <= known


@settings(max_examples=100)
@given(seed=seeds, now=nows)
def test_a_finished_route_ends_at_its_destination(seed: int, now: datetime) -> None:
    plan = _plan(seed, now, LOGISTICS_CENTERS)
    last = plan.events[-1]

    if last.status in {Status.OUT_FOR_DELIVERY, Status.DELIVERED, Status.DELIVERY_ATTEMPTED}:
        assert last.location_id == plan.destination_id


@settings(max_examples=50)
@given(seed=seeds, now=nows)
def test_the_same_seed_gives_the_same_shipment(seed: int, now: datetime) -> None:
    assert _plan(seed, now, LOGISTICS_CENTERS) == _plan(seed, now, LOGISTICS_CENTERS)


def test_another_seed_gives_another_shipment() -> None:
    plans = {_plan(seed, NOW, LOGISTICS_CENTERS) for seed in range(20)}

    assert len(plans) == 20


def test_the_final_status_mix_is_close_to_the_original() -> None:
    rng = random.Random(2024)
    finals = Counter(
        fake_shipment(rng, LOGISTICS_CENTERS, NOW).events[-1].status for _ in range(2_000)
    )
    share = {status: finals[status] / 2_000 for status in Status}
    on_the_way = sum(
        share[status]
        for status in Status
        if not status.is_terminal and status is not Status.EXCEPTION
    )

    assert 0.35 <= on_the_way <= 0.65
    assert 0.005 <= share[Status.EXCEPTION] <= 0.10
    assert 0.005 <= share[Status.RETURNED_TO_SENDER] <= 0.10


def test_a_now_just_after_a_clock_change_gets_no_event_from_the_future() -> None:
    # 01:00 UTC, an hour after the clocks went forward; seed 87's route crosses the change.
    now = datetime(2020, 3, 29, 2, 0, tzinfo=ZoneInfo("Europe/London"))

    plan = _plan(87, now, LOGISTICS_CENTERS)

    assert all(event.occurred_at <= now for event in plan.events)
