"""Transit times of delivered orders, kept as a histogram of whole minutes.

A database can count delivered orders per minute of transit with one GROUP BY
over an index, in any SQL dialect; the percentiles are then read from those
few thousand rows here, instead of sorting every delivered order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from attrs import field, frozen

from logistic.domain.errors import InvalidInput


def _merged(counts: Mapping[int, int] | Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    merged: dict[int, int] = {}
    for minute, count in pairs:
        if count < 0:
            raise InvalidInput(f"a count of delivered orders cannot be negative ({count})")
        # A delivery recorded before its creation is a data error; it counts as instant.
        bucket = max(int(minute), 0)
        merged[bucket] = merged.get(bucket, 0) + count
    return tuple(sorted((minute, count) for minute, count in merged.items() if count))


@frozen
class TransitHistogram:
    """How many delivered orders took each whole number of minutes from creation to delivery."""

    minutes: tuple[tuple[int, int], ...] = field(converter=_merged)

    @property
    def count(self) -> int:
        return sum(count for _, count in self.minutes)

    def percentile_hours(self, fraction: float) -> float | None:
        """The `fraction` percentile in hours (0.5 for the median), None when nothing was delivered.

        Interpolates between ranks like SQL's PERCENTILE_CONT, each order counted
        at the middle of its minute, so the answer is within a minute of the exact one.
        """
        if not 0 <= fraction <= 1:
            raise InvalidInput(f"a percentile lies between 0 and 1, not {fraction}")
        total = self.count
        if total == 0:
            return None
        rank = fraction * (total - 1)
        lower = self._minute_at(math.floor(rank))
        upper = self._minute_at(math.ceil(rank))
        minutes = lower + (rank - math.floor(rank)) * (upper - lower) + 0.5
        return round(minutes / 60, 2)

    def _minute_at(self, rank: int) -> int:
        """The minute of the order at 0-based `rank` in ascending order of transit time."""
        seen = 0
        for minute, count in self.minutes:
            seen += count
            if rank < seen:
                return minute
        raise IndexError(rank)
