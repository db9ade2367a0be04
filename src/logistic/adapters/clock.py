from __future__ import annotations

from datetime import UTC, datetime, timedelta

from attrs import define

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
