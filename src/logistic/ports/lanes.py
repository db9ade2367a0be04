"""Where the lanes' transit times are learned from and kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from logistic.domain.lanes import Delivery, LaneStats


class LaneHistory(Protocol):
    """The delivered orders seen lane by lane, and the stats learned from them.

    * `compute` returns the stats of every lane with at least one order delivered
      after `as_of - window` and at or before `as_of` (whatever its count: the
      caller decides what is reliable), sorted by lane, each `computed_at` `as_of`.
      The work is done where the orders are kept (never loaded one by one); the
      percentiles are within a minute of the exact ones.
    * `replace` makes `stats` the stored stats, all at once: a reader sees the old
      set or the new, never a mix; an empty sequence empties the store.
    * `stored` returns the stored stats sorted by lane (empty before the first
      `replace`).
    * `deliveries` returns the orders created after `created_after` and at or
      before `created_until` that were delivered at or before `delivered_until`,
      in creation order (ties by sno).

    Raises StorageUnavailable when the back end fails (nothing is half-replaced).
    """

    def compute(self, as_of: datetime, window: timedelta) -> tuple[LaneStats, ...]: ...

    def replace(self, stats: Sequence[LaneStats]) -> None: ...

    def stored(self) -> tuple[LaneStats, ...]: ...

    def deliveries(
        self, created_after: datetime, created_until: datetime, delivered_until: datetime
    ) -> list[Delivery]: ...
