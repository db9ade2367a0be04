"""Lanes: what the delivered orders between two centres say about their transit time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from attrs import frozen

from logistic.domain.transit import TransitHistogram

# A lane with fewer deliveries than this says too little: its orders get the fixed rule.
MIN_DELIVERIES = 30
# Its deliveries are those of this long before the stats are computed.
LANE_WINDOW = timedelta(days=90)
LOW, MIDDLE, HIGH = 0.05, 0.5, 0.95


@frozen
class LaneStats:
    """The transit times (creation to delivery, in hours) of one lane's delivered orders:
    how many there were and their 5th, 50th and 95th percentiles, as of `computed_at`."""

    origin_id: int
    destination_id: int
    deliveries: int
    p05_hours: float
    p50_hours: float
    p95_hours: float
    computed_at: datetime

    @property
    def lane(self) -> tuple[int, int]:
        return (self.origin_id, self.destination_id)

    @property
    def reliable(self) -> bool:
        return self.deliveries >= MIN_DELIVERIES

    @classmethod
    def from_histogram(
        cls, lane: tuple[int, int], histogram: TransitHistogram, computed_at: datetime
    ) -> LaneStats | None:
        """The stats of a lane's histogram; None when it holds no delivery."""
        low, middle, high = (histogram.percentile_hours(level) for level in (LOW, MIDDLE, HIGH))
        if low is None or middle is None or high is None:
            return None
        return cls(lane[0], lane[1], histogram.count, low, middle, high, computed_at)


def lane_stats(
    hours: Iterable[tuple[int, int, int, int]], computed_at: datetime
) -> tuple[LaneStats, ...]:
    """Every lane's stats from (origin_id, destination_id, whole hours of transit,
    deliveries) rows, in any order: what a GROUP BY of the delivered orders returns.

    Hours, not minutes: a few dozen rows per lane rather than thousands, and a day's
    estimate needs no finer grain. Each order counts at the middle of its hour."""
    by_lane: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for origin_id, destination_id, hour, count in hours:
        minute = int(hour) * 60 + 30
        by_lane.setdefault((int(origin_id), int(destination_id)), []).append((minute, int(count)))
    found = (
        LaneStats.from_histogram(lane, TransitHistogram(pairs), computed_at)
        for lane, pairs in sorted(by_lane.items())
    )
    return tuple(stats for stats in found if stats is not None)


@frozen
class Delivery:
    """A delivered order as the estimate sees it: its lane, when it was created, promised
    and delivered."""

    origin_id: int
    destination_id: int
    created_at: datetime
    promised_by: datetime
    delivered_at: datetime
