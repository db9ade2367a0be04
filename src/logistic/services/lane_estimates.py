"""The delivery estimate a customer is shown, learned from the lanes' delivered orders.

Each process keeps the stored lane stats in memory and reads them again when they
are older than RELOAD_AFTER, so a /query miss costs no extra query; the scheduler
recomputes them at every report slot (`keep_up`). A body already cached keeps the
estimate it was built with until its next event or its TTL.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, tzinfo

from logistic.domain.errors import StorageUnavailable
from logistic.domain.estimate import Estimate, estimate
from logistic.domain.lanes import LANE_WINDOW, LaneStats
from logistic.domain.model import Shipment
from logistic.ports.clock import Clock
from logistic.ports.lanes import LaneHistory

log = logging.getLogger(__name__)

RELOAD_AFTER = timedelta(minutes=5)
# After a failed read, the stats in hand serve this long before the next try.
RETRY_AFTER = timedelta(seconds=30)


class LaneEstimates:
    """Estimates from the stored lane stats, and their refresh."""

    def __init__(self, lanes: LaneHistory, clock: Clock, zone: tzinfo) -> None:
        self._lanes = lanes
        self._clock = clock
        self._zone = zone
        self._by_lane: dict[tuple[int, int], LaneStats] = {}
        self._computed_at: datetime | None = None
        # As of when this process last refreshed them (no lane at all stores no instant).
        self._refreshed_as_of: datetime | None = None
        self._next_load: datetime | None = None
        self._lock = threading.Lock()

    def estimate(self, shipment: Shipment) -> Estimate:
        """What `shipment`'s /query body and page show: from its lane when the lane has
        enough deliveries, else the fixed rule."""
        lanes = self._current()
        return estimate(
            shipment, lanes.get((shipment.origin_id, shipment.destination_id)), self._zone
        )

    def lane(self, origin_id: int, destination_id: int) -> LaneStats | None:
        return self._current().get((origin_id, destination_id))

    def refresh(self, as_of: datetime) -> int:
        """Recompute every lane from the deliveries of LANE_WINDOW before `as_of` and store
        them; returns how many lanes. StorageUnavailable."""
        stats = self._lanes.compute(as_of, LANE_WINDOW)
        self._lanes.replace(stats)
        self._keep(stats)
        with self._lock:
            self._refreshed_as_of = max(as_of, self._refreshed_as_of or as_of)
        log.info("lane stats of %d lanes computed as of %s", len(stats), as_of.isoformat())
        return len(stats)

    def keep_up(self, as_of: datetime) -> bool:
        """`refresh(as_of)` unless the stored stats are as recent (another process, or this
        one, did it); returns whether it refreshed. StorageUnavailable."""
        if self._done_as_of(as_of):
            return False
        self._keep(self._lanes.stored())
        if self._done_as_of(as_of):
            return False
        self.refresh(as_of)
        return True

    def _done_as_of(self, as_of: datetime) -> bool:
        with self._lock:
            done = (self._computed_at, self._refreshed_as_of)
        return any(instant is not None and instant >= as_of for instant in done)

    def _current(self) -> dict[tuple[int, int], LaneStats]:
        now = self._clock.now()
        with self._lock:
            due = self._next_load is None or now >= self._next_load
            if not due:
                return self._by_lane
            # One thread reads; the others go on with the stats in hand meanwhile.
            self._next_load = now + RETRY_AFTER
        try:
            self._keep(self._lanes.stored())
        except StorageUnavailable as error:
            log.warning("lane stats unavailable, estimating from the last ones read: %s", error)
        return self._by_lane

    def _keep(self, stats: tuple[LaneStats, ...]) -> None:
        by_lane = {each.lane: each for each in stats}
        computed = max((each.computed_at for each in stats), default=None)
        with self._lock:
            self._by_lane = by_lane
            self._computed_at = computed
            self._next_load = self._clock.now() + RELOAD_AFTER
