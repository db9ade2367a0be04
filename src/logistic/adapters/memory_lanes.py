"""Lane stats over the shipments of a MemoryShipmentRepository (tests, library users)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.domain.lanes import Delivery, LaneStats, lane_stats


class MemoryLaneHistory:
    """The LaneHistory promise kept by counting the stored shipments in Python."""

    def __init__(self, shipments: MemoryShipmentRepository) -> None:
        self._shipments = shipments
        self._stored: tuple[LaneStats, ...] = ()
        self._lock = threading.Lock()

    def compute(self, as_of: datetime, window: timedelta) -> tuple[LaneStats, ...]:
        since = as_of - window
        hours = Counter(
            (order.origin_id, order.destination_id, (at - order.created_at) // timedelta(hours=1))
            for order in self._shipments.all()
            if (at := order.delivered_at) is not None and since < at <= as_of
        )
        return lane_stats(((*key, count) for key, count in hours.items()), as_of)

    def replace(self, stats: Sequence[LaneStats]) -> None:
        with self._lock:
            self._stored = tuple(sorted(stats, key=lambda each: each.lane))

    def stored(self) -> tuple[LaneStats, ...]:
        with self._lock:
            return self._stored

    def deliveries(
        self, created_after: datetime, created_until: datetime, delivered_until: datetime
    ) -> list[Delivery]:
        chosen = sorted(
            (order.created_at, order.sno, order, at)
            for order in self._shipments.all()
            if created_after < order.created_at <= created_until
            and (at := order.delivered_at) is not None
            and at <= delivered_until
        )
        return [
            Delivery(order.origin_id, order.destination_id, order.created_at, order.promised_by, at)
            for _, _, order, at in chosen
        ]
