"""Bulk demo data: make sure some number of orders exist, adding only the missing ones.

Orders are added in batches, each stored in one transaction: a run cut short
leaves whole orders only, and the next run with the same target adds what is
still missing. A batch's orders depend only on the seed and on the position of
its first order, so a resumed run makes the same orders as an uninterrupted one
(for the same clock), and batches can be made in any order, by any process.

Seeded orders are created over the last SEED_WINDOW (two weeks), not the six
days of /fake: a carrier's million orders are mostly delivered ones, and with
two weeks the generator gives about 5.5 events per order (6 days give 4.6),
the five to six million events a regional carrier has at a million orders.
They sweep that window in order of position, SWEEP orders at a time: snos
mostly follow creation times, as a carrier's do, and the indexes that lead with
a time column are filled near one end rather than all over. At a million
orders, filled at random, they outgrow MariaDB's default 128 MiB buffer pool
and the second half of the run goes at half the speed of the first.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, tzinfo

from attrs import frozen

from logistic.domain.errors import CacheUnavailable, InvalidInput
from logistic.ports.clock import Clock
from logistic.ports.people import ContactSource
from logistic.ports.repositories import ShipmentRepository
from logistic.services.fake_orders import new_shipments
from logistic.services.locations import Locations
from logistic.services.tracking import Tracking

log = logging.getLogger(__name__)

BATCH_SIZE = 5_000
SWEEP = 100_000
SEED_WINDOW = timedelta(days=14)


def random_seed() -> int:
    return secrets.randbits(63)


@frozen
class Batch:
    """`size` new orders, the first of which is order number `start` (from 0) of the target.

    Order number p is created at ((p mod sweep) + a random fraction) / sweep of
    the way through `window` (SEED_WINDOW unless asked), which ends now.
    """

    start: int
    size: int
    sweep: int = SWEEP
    window: timedelta = SEED_WINDOW

    def rng(self, seed: int) -> random.Random:
        return random.Random(f"{seed}:{self.start}")

    def creation_times(self, rng: random.Random, now: datetime) -> list[datetime]:
        window_start = now.astimezone(UTC) - self.window  # elapsed time, not a wall clock
        return [
            window_start + self.window * ((position % self.sweep + rng.random()) / self.sweep)
            for position in range(self.start, self.start + self.size)
        ]


@frozen
class SeedPlan:
    """How many orders are wanted, how many are stored, and the batches that make up the rest."""

    wanted: int
    stored: int
    batch_size: int = BATCH_SIZE
    window: timedelta = SEED_WINDOW

    @property
    def missing(self) -> int:
        return max(self.wanted - self.stored, 0)

    def batches(self) -> Iterator[Batch]:
        sweep = max(min(SWEEP, self.wanted), 1)
        for start in range(self.stored, self.wanted, self.batch_size):
            yield Batch(start, min(self.batch_size, self.wanted - start), sweep, self.window)


class Seeding:
    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        contacts: ContactSource,
        clock: Clock,
        zone: tzinfo,
        tracking: Tracking,
    ) -> None:
        self._shipments = shipments
        self._locations = locations
        self._contacts = contacts
        self._clock = clock
        self._zone = zone
        self._tracking = tracking
        self._cache_warned = False

    def plan(
        self, orders: int, batch_size: int = BATCH_SIZE, window: timedelta = SEED_WINDOW
    ) -> SeedPlan:
        """What it takes for at least `orders` orders, created over `window`, to be stored."""
        if orders < 0:
            raise InvalidInput("the number of orders cannot be negative")
        if batch_size < 1:
            raise InvalidInput("a batch holds at least one order")
        if window <= timedelta():
            raise InvalidInput("orders are created over a window of at least a day")
        return SeedPlan(orders, self._shipments.count(), batch_size, window)

    def stored(self) -> int:
        return self._shipments.count()

    def add(self, batch: Batch, seed: int) -> int:
        """Make and store one batch of orders in one transaction; returns how many."""
        rng = batch.rng(seed)
        created_at = batch.creation_times(rng, self._clock.now())
        planned = new_shipments(
            batch.size, rng, self._locations, self._contacts, self._clock, self._zone, created_at
        )
        added = self._shipments.add_in_bulk(planned)
        # A sno looked up before it was seeded is remembered as unknown: no longer.
        try:
            self._tracking.forget_now(added)
        except CacheUnavailable as error:
            if not self._cache_warned:
                self._cache_warned = True
                log.warning(
                    "cache unavailable, seeded snos looked up before may be answered "
                    "'not found' for up to the negative-cache TTL: %s",
                    error,
                )
        return len(added)

    def seed(
        self,
        orders: int,
        seed: int | None = None,
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int, int], None] = lambda added, missing: None,
    ) -> int:
        """Make sure at least `orders` orders are stored (in this process); returns the added."""
        plan = self.plan(orders, batch_size)
        seed = random_seed() if seed is None else seed
        added = 0
        for batch in plan.batches():
            added += self.add(batch, seed)
            progress(added, plan.missing)
        return added
