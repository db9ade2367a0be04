"""Bulk demo data: many fake orders in batches, each batch one transaction."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import tzinfo

from logistic.ports.clock import Clock
from logistic.ports.people import ContactSource
from logistic.ports.repositories import ShipmentRepository
from logistic.services.fake_orders import new_shipments
from logistic.services.locations import Locations

BATCH_SIZE = 1_000


class Seeding:
    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        contacts: ContactSource,
        clock: Clock,
        zone: tzinfo,
    ) -> None:
        self._shipments = shipments
        self._locations = locations
        self._contacts = contacts
        self._clock = clock
        self._zone = zone

    def seed(
        self,
        orders: int,
        seed: int | None = None,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> int:
        """Store `orders` new orders; every batch is whole or absent. Returns how many."""
        rng = random.Random(seed)
        done = 0
        for size in _batches(orders, batch_size):
            planned = new_shipments(
                size, rng, self._locations, self._contacts, self._clock, self._zone
            )
            self._shipments.add_many(planned)
            done += size
            progress(done, orders)
        return done


def _batches(total: int, size: int) -> Iterator[int]:
    full, rest = divmod(total, size)
    yield from [size] * full
    if rest:
        yield rest
