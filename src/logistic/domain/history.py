"""Realistic fake histories for demo traffic and bulk seeding.

A route is planned in full (pick-up, one to three hops through distinct
centers, the last mile), then cut at "now": a parcel created recently is still
on its way. Seeded `random.Random` instances give reproducible histories. How
long each step takes: transit_model (and docs/estimate.md).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from attrs import frozen

from logistic.domain.model import Location, TrackingEvent
from logistic.domain.status import Status
from logistic.domain.transit_model import (
    HUB_HOURS,
    PICK_UP_HOURS,
    ROUND_HOURS,
    hours,
    line_haul,
    long_delay,
    next_round,
    slowed,
)

# Parcels are created up to this long before "now"; with routes of two to six
# days this leaves about half of them still on the way, as the original did.
CREATION_WINDOW = timedelta(days=6)
EXCEPTION_RATE = 0.04
SECOND_ATTEMPT_RATE = 0.7


@frozen
class PlannedShipment:
    """A fake order before it has a sno: where it goes and what happened to it so far."""

    origin_id: int
    destination_id: int
    created_at: datetime
    events: tuple[TrackingEvent, ...]


def plan_route(
    rng: random.Random, locations: Sequence[Location], created_at: datetime
) -> tuple[int, int, list[tuple[Status, int, datetime]]]:
    """The whole life of a parcel, from Created to its final status.

    Its transit time follows the lane, the weekday and chance (see transit_model).
    """
    hops = rng.randint(1, 3)
    stops = rng.sample(list(locations), k=min(len(locations), hops + 1))
    origin, route = stops[0], stops[1:]
    destination = route[-1]
    at = created_at
    steps: list[tuple[Status, int, datetime]] = [(Status.CREATED, origin.id, at)]
    at += hours(rng, PICK_UP_HOURS)
    steps.append((Status.PACKAGE_RECEIVED, origin.id, at))
    delay_at = rng.randrange(len(route))
    for index, (stop, leg) in enumerate(
        zip(route, line_haul(rng, origin, destination, len(route)), strict=True)
    ):
        at += hours(rng, HUB_HOURS) + slowed(at, leg)
        if index == delay_at:
            at += long_delay(rng)
        steps.append((Status.IN_TRANSIT, stop.id, at))
    at = next_round(rng, at)
    steps.append((Status.OUT_FOR_DELIVERY, destination.id, at))
    at += hours(rng, ROUND_HOURS)
    if rng.random() < 0.15:
        steps.append((Status.DELIVERY_ATTEMPTED, destination.id, at))
        if rng.random() < SECOND_ATTEMPT_RATE:
            at = next_round(rng, at)
            steps.append((Status.OUT_FOR_DELIVERY, destination.id, at))
            at += hours(rng, ROUND_HOURS)
            steps.append((Status.DELIVERED, destination.id, at))
        else:
            at += hours(rng, (12, 30))
            steps.append((Status.RETURNED_TO_SENDER, destination.id, at))
    else:
        steps.append((Status.DELIVERED, destination.id, at))
    if rng.random() < EXCEPTION_RATE:
        # A parcel lost or damaged after some step: the history stops in Exception.
        cut = rng.randint(1, len(steps) - 1)
        last_location = steps[cut - 1][1]
        exception_at = steps[cut - 1][2] + hours(rng, (1, 24))
        steps = [*steps[:cut], (Status.EXCEPTION, last_location, exception_at)]
    return origin.id, destination.id, steps


def fake_shipment(
    rng: random.Random,
    locations: Sequence[Location],
    now: datetime,
    created_at: datetime | None = None,
) -> PlannedShipment:
    """A parcel created within the last few days, with the events that happened by `now`.

    It is created at `created_at` when the caller chooses (no later than `now`),
    else at a random moment of the creation window.
    """
    now = now.astimezone(UTC)  # arithmetic on UTC: local wall clocks skip and repeat hours
    if created_at is None:
        created_at = now - rng.random() * CREATION_WINDOW
    created_at = created_at.astimezone(UTC)
    origin_id, destination_id, steps = plan_route(rng, locations, created_at)
    events = tuple(
        TrackingEvent(status, location_id, at) for status, location_id, at in steps if at <= now
    )
    return PlannedShipment(origin_id, destination_id, created_at, events)
