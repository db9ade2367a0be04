"""Counting requests per client in fixed windows of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Protocol

from attrs import frozen

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@frozen
class Window:
    """The `index`-th stretch of `length` since the Unix epoch; every process agrees on it."""

    index: int
    length: timedelta

    @classmethod
    def containing(cls, moment: datetime, length: timedelta) -> Window:
        return cls((moment - _EPOCH) // length, length)

    # Cached: a Throttle keeps its current window and reads both on every request.
    @cached_property
    def start(self) -> datetime:
        return _EPOCH + self.index * self.length

    @cached_property
    def end(self) -> datetime:
        return self.start + self.length


class RateLimiter(Protocol):
    """Request counters per key and window.

    Counting is atomic: of N concurrent hits on one key and window, the counts
    returned are exactly 1..N, as far as the back end is shared (one process for
    the memory adapter, every worker for Redis). Counters of past windows are
    forgotten on their own. A back end that fails raises StorageUnavailable.
    """

    def hit(self, key: str, window: Window, amount: int = 1) -> int:
        """Count `amount` requests (at least 1) for `key` in `window`; the count so far,
        these included."""
        ...
