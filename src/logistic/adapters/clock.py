"""The Clock port: the system clock, a fixed one and a travelling one (the scheduler's demo)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from attrs import define, field

from logistic.domain.errors import InvalidInput


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@define
class FixedClock:
    """A clock that only moves when told to (tests, time travel in demos)."""

    current: datetime

    def __attrs_post_init__(self) -> None:
        if self.current.tzinfo is None:
            raise InvalidInput("FixedClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise InvalidInput("FixedClock needs a timezone-aware datetime")
        self.current = moment


@define
class TravellingClock:
    """A clock that starts at `start` and runs `speed` times as fast as real time (demos, tests)."""

    start: datetime
    speed: float = 1.0
    _started: float = field(factory=time.monotonic, init=False)

    def __attrs_post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise InvalidInput("TravellingClock needs a timezone-aware start")
        if not self.speed > 0:
            raise InvalidInput(f"a clock speed must be positive, not {self.speed}")

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._started) * self.speed
        return (self.start + timedelta(seconds=elapsed)).astimezone(UTC)
