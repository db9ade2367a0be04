"""Seeding in memory: exactly the missing orders, valid and reproducible; progress lines."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from random import Random
from zoneinfo import ZoneInfo

import pytest

from logistic.adapters.clock import FixedClock
from logistic.adapters.memory import (
    FailingCache,
    MemoryCache,
    MemoryContacts,
    MemoryLocationCatalog,
    MemoryShipmentRepository,
)
from logistic.container import memory_container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import CacheUnavailable, InvalidInput, ShipmentNotFound
from logistic.domain.history import CREATION_WINDOW, fake_shipment
from logistic.domain.model import Shipment
from logistic.domain.status import is_valid_history
from logistic.entrypoints.progress import Progress
from logistic.entrypoints.seeders import seed_orders
from logistic.ports.cache import Cache
from logistic.services.locations import Locations
from logistic.services.seeding import SEED_WINDOW, SWEEP, Batch, Seeding, SeedPlan
from logistic.services.tracking import Tracking, missing_key, tracking_key

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
CONTACTS = MemoryContacts()


def tracking_over(repository: MemoryShipmentRepository, cache: Cache) -> Tracking:
    locations = Locations(MemoryLocationCatalog(LOGISTICS_CENTERS))
    return Tracking(repository, locations, cache, ZoneInfo("Asia/Taipei"), timedelta(hours=4))


def seeding(
    repository: MemoryShipmentRepository | None = None, cache: Cache | None = None
) -> Seeding:
    shipments = repository or MemoryShipmentRepository()
    clock = FixedClock(NOW)
    return Seeding(
        shipments=shipments,
        locations=Locations(MemoryLocationCatalog(LOGISTICS_CENTERS)),
        contacts=CONTACTS,
        clock=clock,
        zone=ZoneInfo("Asia/Taipei"),
        tracking=tracking_over(shipments, cache or MemoryCache(clock)),
    )


def content(shipment: Shipment) -> tuple[object, ...]:
    """Everything but the ids the repository gave."""
    return (
        shipment.recipient.name,
        shipment.recipient.phone,
        shipment.recipient.address,
        shipment.origin_id,
        shipment.destination_id,
        shipment.created_at,
        shipment.promised_by,
        tuple((event.status, event.location_id, event.occurred_at) for event in shipment.events),
    )


def assert_valid(shipment: Shipment) -> None:
    assert is_valid_history(shipment.statuses)
    moments = [event.occurred_at for event in shipment.events]
    assert all(earlier <= later for earlier, later in pairwise(moments))
    assert shipment.created_at == moments[0] <= NOW
    assert shipment.promised_by > shipment.created_at


# --- the plan ----------------------------------------------------------------------------


def test_the_batches_cover_exactly_the_missing_orders() -> None:
    plan = SeedPlan(wanted=2_500, stored=300, batch_size=1_000)

    assert plan.missing == 2_200
    assert list(plan.batches()) == [
        Batch(300, 1_000, 2_500),
        Batch(1_300, 1_000, 2_500),
        Batch(2_300, 200, 2_500),
    ]


def test_nothing_is_missing_when_enough_are_stored() -> None:
    plan = SeedPlan(wanted=100, stored=250, batch_size=1_000)

    assert plan.missing == 0
    assert list(plan.batches()) == []


@pytest.mark.parametrize(("orders", "batch_size"), [(-1, 10), (10, 0)])
def test_a_negative_target_or_an_empty_batch_is_refused(orders: int, batch_size: int) -> None:
    with pytest.raises(InvalidInput):
        seeding().plan(orders, batch_size)


# --- seeding -----------------------------------------------------------------------------


def test_seeding_stores_exactly_the_orders_asked_for_all_valid() -> None:
    repository = MemoryShipmentRepository()
    reported: list[tuple[int, int]] = []

    added = seeding(repository).seed(
        2_500, seed=1, batch_size=1_000, progress=lambda done, total: reported.append((done, total))
    )

    assert added == repository.count() == 2_500
    assert reported == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    for shipment in repository.all():
        assert_valid(shipment)


def test_seeding_adds_only_the_missing_orders() -> None:
    repository = MemoryShipmentRepository()
    service = seeding(repository)
    service.seed(700, seed=1, batch_size=500)

    assert service.seed(700, seed=1, batch_size=500) == 0
    assert service.seed(500, seed=1, batch_size=500) == 0
    assert service.seed(1_200, seed=1, batch_size=500) == 500
    assert repository.count() == 1_200


def test_the_same_seed_makes_the_same_orders() -> None:
    first, second = MemoryShipmentRepository(), MemoryShipmentRepository()
    seeding(first).seed(1_500, seed=42, batch_size=400)
    seeding(second).seed(1_500, seed=42, batch_size=400)

    assert [content(s) for s in first.all()] == [content(s) for s in second.all()]


def test_another_seed_makes_other_orders() -> None:
    first, second = MemoryShipmentRepository(), MemoryShipmentRepository()
    seeding(first).seed(200, seed=1)
    seeding(second).seed(200, seed=2)

    assert [content(s) for s in first.all()] != [content(s) for s in second.all()]


def test_a_resumed_run_makes_the_same_orders_as_an_uninterrupted_one() -> None:
    whole, resumed = MemoryShipmentRepository(), MemoryShipmentRepository()
    seeding(whole).seed(2_000, seed=7, batch_size=500)
    interrupted = seeding(resumed)
    for batch in list(interrupted.plan(2_000, batch_size=500).batches())[:2]:
        interrupted.add(batch, seed=7)
    assert seeding(resumed).seed(2_000, seed=7, batch_size=500) == 1_000

    assert [content(s) for s in whole.all()] == [content(s) for s in resumed.all()]


def test_batches_can_be_made_in_any_order() -> None:
    plan = SeedPlan(wanted=1_500, stored=0, batch_size=500)
    in_order, reversed_ = MemoryShipmentRepository(), MemoryShipmentRepository()
    for batch in plan.batches():
        seeding(in_order).add(batch, seed=3)
    for batch in reversed(list(plan.batches())):
        seeding(reversed_).add(batch, seed=3)

    assert sorted(content(s) for s in in_order.all()) == sorted(content(s) for s in reversed_.all())


def test_snos_follow_creation_times_sweep_after_sweep() -> None:
    repository = MemoryShipmentRepository()
    seeding(repository).seed(1_000, seed=5, batch_size=300)
    plan = SeedPlan(wanted=250_000, stored=0)

    created = [shipment.created_at for shipment in repository.all()]
    assert created == sorted(created)
    assert NOW - SEED_WINDOW <= created[0] < created[-1] <= NOW
    assert created[-1] - created[0] > SEED_WINDOW * 0.99
    times = next(plan.batches()).creation_times(Random(1), NOW)
    assert times == sorted(times)
    wrapped = Batch(SWEEP - 2, 4, SWEEP).creation_times(Random(1), NOW)
    assert wrapped[1] > NOW - timedelta(seconds=10)
    assert wrapped[2] < NOW - SEED_WINDOW + timedelta(seconds=10)


def test_seeded_snos_looked_up_before_are_no_longer_remembered_as_unknown() -> None:
    repository = MemoryShipmentRepository()
    cache = MemoryCache(FixedClock(NOW))
    service = seeding(repository, cache)
    tracking = tracking_over(repository, cache)
    for sno in (1, 150, 151):
        with pytest.raises(ShipmentNotFound):
            tracking.body(sno)
    cache.set(tracking_key(150), b"a body from a database since reset", timedelta(hours=1))

    service.seed(150, seed=1, batch_size=100)

    assert cache.get(missing_key(1)) is None
    assert cache.get(tracking_key(150)) is None
    assert json.loads(tracking.body(150))["sno"] == "150"
    assert cache.get(missing_key(151)) is not None  # not seeded: still unknown


def test_seeding_while_the_cache_is_down_stores_every_order_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repository = MemoryShipmentRepository()
    service = seeding(repository, FailingCache(lambda: CacheUnavailable("connection refused")))

    with caplog.at_level(logging.WARNING):
        added = service.seed(1_000, seed=1, batch_size=100)

    assert added == 1_000
    assert len(repository.all()) == 1_000
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "negative-cache TTL" in warnings[0].getMessage()


def test_seeded_orders_carry_five_to_six_events_each() -> None:
    repository = MemoryShipmentRepository()
    seeding(repository).seed(4_000, seed=11, batch_size=1_000)
    shipments = repository.all()

    per_order = sum(len(shipment.events) for shipment in shipments) / len(shipments)

    assert 5.2 <= per_order <= 5.8
    # /fake's orders are younger (the original's six days): fewer of them have arrived.
    rng = Random(11)
    fake = [fake_shipment(rng, LOGISTICS_CENTERS, NOW) for _ in range(4_000)]
    assert sum(len(plan.events) for plan in fake) / len(fake) < per_order - 0.3
    assert all(NOW - CREATION_WINDOW <= plan.created_at <= NOW for plan in fake)


def test_the_generator_starts_a_history_at_the_moment_it_is_given() -> None:
    at = (NOW - timedelta(days=3)).astimezone(ZoneInfo("Asia/Taipei"))

    plan = fake_shipment(Random(1), LOGISTICS_CENTERS, NOW, created_at=at)

    assert plan.created_at == at
    assert plan.created_at.tzinfo is UTC
    assert plan.events[0].occurred_at == at
    assert is_valid_history(event.status for event in plan.events)


# --- the command, in one process ---------------------------------------------------------


def test_the_command_says_what_it_adds_and_then_that_nothing_is_missing() -> None:
    container = memory_container(now=NOW)
    out = io.StringIO()

    assert seed_orders(container, 1_200, seed=1, batch_size=500, out=out) == 1_200
    assert seed_orders(container, 1_000, seed=1, batch_size=500, out=out) == 0

    assert out.getvalue().splitlines() == [
        "0 orders are stored; adding 1,200",
        "1,200 orders added; 1,200 stored",
        "1,200 orders are stored (1,000 wanted): none added",
    ]
    assert container.shipments().count() == 1_200


# --- progress ----------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_progress_is_a_line_per_tenth_and_every_five_seconds() -> None:
    ticks, out = Ticks(), io.StringIO()
    progress = Progress(1_000, "seeding", stream=out, terminal=False, clock=ticks)

    for _ in range(25):  # 40 each: a tenth every two and a half steps
        ticks.now += 0.125
        progress.advance(40)
    progress.finish()

    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "seeding: 120/1,000 (12%), 320/s, ETA 0:03, 0:00 elapsed"
    assert lines[-1] == "seeding: 1,000/1,000 (100%), 320/s, ETA 0:00, 0:03 elapsed"
    assert "\r" not in out.getvalue()


def test_off_a_terminal_a_slow_run_still_writes_a_line_every_five_seconds() -> None:
    ticks, out = Ticks(), io.StringIO()
    progress = Progress(1_000_000, "seeding", stream=out, terminal=False, clock=ticks)

    for _ in range(12):
        ticks.now += 1
        progress.advance(100)

    assert out.getvalue().splitlines() == [
        "seeding: 500/1,000,000 (0%), 100/s, ETA 2:46:35, 0:05 elapsed",
        "seeding: 1,000/1,000,000 (0%), 100/s, ETA 2:46:30, 0:10 elapsed",
    ]


def test_on_a_terminal_progress_is_one_bar_redrawn_in_place() -> None:
    ticks, out = Ticks(), io.StringIO()
    progress = Progress(1_000, "seeding", stream=out, terminal=True, clock=ticks)

    for _ in range(4):
        ticks.now += 1
        progress.advance(250)
    progress.finish()

    text = out.getvalue()
    assert text.count("\r") == 4
    assert text.count("\n") == 1
    assert text.endswith("\n")
    assert "\rseeding [" + "#" * 7 + "." * 23 + "] 250/1,000 250/s ETA 0:03\x1b[K" in text
    assert "\rseeding [" + "#" * 30 + "] 1,000/1,000 250/s ETA 0:00\x1b[K\n" in text
