"""Fakes for the report tests: fixed figures, a store that counts writes and fails on demand."""

from __future__ import annotations

import builtins
import math
import random
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from logistic.adapters.memory_store import MemoryLock, MemoryObjectStore
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ObjectStoreError
from logistic.domain.estimate import promise_deadline
from logistic.domain.history import fake_shipment
from logistic.domain.model import Contact
from logistic.domain.report import LocationCount, ReportFigures, StuckShipments
from logistic.domain.status import Status
from logistic.ports.clock import Clock
from logistic.ports.lock import Lock
from logistic.ports.object_store import ObjectStore
from logistic.ports.repositories import NewShipment
from logistic.services.reports import Reports

ZONE = "Asia/Taipei"
TAIPEI = ZoneInfo(ZONE)
STUCK_AFTER = timedelta(hours=72)

FIGURES = ReportFigures(
    tracking_summary={Status.IN_TRANSIT: 5, Status.DELIVERED: 12, Status.EXCEPTION: 2},
    total_orders=19,
    by_location=[LocationCount(2, "臺北物流中心", 19)],
    stuck=StuckShipments(count=3, threshold_hours=72),
    delivered_last_8h=6,
    transit_hours_median=41.5,
    transit_hours_p90=70.25,
    on_time_rate=0.75,
)


class StaticFigures:
    """Always the same figures; `during` runs while they are being "computed"."""

    def __init__(self, during: Callable[[], object] | None = None) -> None:
        self.as_of: list[datetime] = []
        self.during = during

    def figures(self, as_of: datetime, stuck_after: timedelta) -> ReportFigures:
        self.as_of.append(as_of)
        if self.during is not None:
            self.during()
        return FIGURES


class RecordingStore:
    """An object store that counts the writes of each key and fails the next `failures` puts."""

    def __init__(self, inner: ObjectStore | None = None) -> None:
        self.inner = inner or MemoryObjectStore()
        self.writes: Counter[str] = Counter()
        self.failures = 0

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        if self.failures:
            self.failures -= 1
            raise ObjectStoreError(f"injected failure writing {key}")
        self.inner.put(key, body, content_type, metadata)
        self.writes[key] += 1

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def metadata(self, key: str) -> dict[str, str]:
        return self.inner.metadata(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def check(self) -> None:
        self.inner.check()

    def list(self, prefix: str = "") -> builtins.list[str]:
        return self.inner.list(prefix)


def reports_service(
    clock: Clock,
    store: ObjectStore | None = None,
    lock: Lock | None = None,
    figures: StaticFigures | None = None,
) -> Reports:
    return Reports(
        figures=figures or StaticFigures(),
        store=store or MemoryObjectStore(),
        lock=lock or MemoryLock(clock),
        clock=clock,
        zone=ZONE,
        stuck_after=STUCK_AFTER,
    )


def exact_percentile(values: list[float], fraction: float) -> float:
    """PERCENTILE_CONT: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    return low + (rank - math.floor(rank)) * (high - low)


def generated_orders(count: int, seed: int, now: datetime) -> list[NewShipment]:
    """`count` orders from the fake-history generator, created in the six days before `now`."""
    rng = random.Random(seed)
    centers = {location.id: location for location in LOGISTICS_CENTERS}
    planned = []
    for index in range(count):
        plan = fake_shipment(rng, LOGISTICS_CENTERS, now)
        promised_by = promise_deadline(
            plan.created_at, centers[plan.origin_id], centers[plan.destination_id], TAIPEI
        )
        contact = Contact(f"收件人{index}", "0912345678", "臺北市")
        planned.append(NewShipment(contact, plan, promised_by))
    return planned
