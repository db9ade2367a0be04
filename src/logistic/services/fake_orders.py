"""Demo traffic: new orders with realistic histories (never events for an existing order)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from logistic.domain.errors import InvalidInput
from logistic.domain.estimate import promise_deadline
from logistic.domain.history import fake_shipment
from logistic.domain.model import Shipment
from logistic.domain.webhook import CREATED
from logistic.ports.clock import Clock
from logistic.ports.people import ContactSource
from logistic.ports.repositories import NewShipment, ShipmentRepository
from logistic.services.locations import Locations
from logistic.services.metering import FAKE_ORDERS, SILENT, Meter
from logistic.services.tracking import Tracking
from logistic.services.webhook_subscribers import Subscribers

DEFAULT_COUNT = 10
MAX_COUNT = 100


def new_shipments(
    count: int,
    rng: random.Random,
    locations: Locations,
    contacts: ContactSource,
    clock: Clock,
    zone: tzinfo,
    created_at: Sequence[datetime] | None = None,
) -> list[NewShipment]:
    """`count` fake orders, planned by the domain generator; nothing is stored yet.

    `created_at` holds their creation instants when the caller spreads them itself
    (one per order, none later than the clock's now); else the generator draws them.
    """
    if created_at is not None and len(created_at) != count:
        raise ValueError(f"{len(created_at)} creation instants for {count} orders")
    centers = locations.all()
    if len(centers) < 2:
        raise InvalidInput("no logistics centers are stored yet: run `logistic migrate`")
    by_id = locations.by_id()
    now = clock.now()
    planned = []
    for index in range(count):
        plan = fake_shipment(rng, centers, now, None if created_at is None else created_at[index])
        deadline = promise_deadline(
            plan.created_at, by_id[plan.origin_id], by_id[plan.destination_id], zone
        )
        planned.append(NewShipment(contacts.contact(rng), plan, deadline))
    return planned


class FakeOrders:
    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        contacts: ContactSource,
        clock: Clock,
        zone: tzinfo,
        rng_factory: Callable[[], random.Random] = random.Random,
        tracking: Tracking | None = None,
        subscribers: Subscribers | None = None,
        meter: Meter = SILENT,
    ) -> None:
        self._subscribers = subscribers
        self._meter = meter
        self._shipments = shipments
        self._tracking = tracking
        self._locations = locations
        self._contacts = contacts
        self._clock = clock
        self._zone = zone
        self._rng_factory = rng_factory

    def create(self, count: int) -> list[Shipment]:
        """Store `count` new orders (capped at MAX_COUNT, like the original) in one transaction."""
        if count < 1:
            raise InvalidInput("num must be a whole number of at least 1")
        planned = new_shipments(
            min(count, MAX_COUNT),
            self._rng_factory(),
            self._locations,
            self._contacts,
            self._clock,
            self._zone,
        )
        messages = None if self._subscribers is None else self._subscribers.messages_for(CREATED)
        stored = self._shipments.add_many(planned, messages)
        self._meter.add(FAKE_ORDERS, amount=len(stored))
        if self._tracking is not None:
            # Someone may have asked for these snos before they existed.
            self._tracking.forget(shipment.sno for shipment in stored)
        return stored
