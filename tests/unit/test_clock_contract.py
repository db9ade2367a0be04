"""The Clock promise, held by every adapter: an aware instant that never runs backwards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from logistic.adapters.clock import FixedClock, SystemClock, TravellingClock
from logistic.ports.clock import Clock

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
CLOCKS: dict[str, Callable[[], Clock]] = {
    "system": SystemClock,
    "fixed": lambda: FixedClock(START),
    "travelling": lambda: TravellingClock(START, speed=3600),
}


@pytest.fixture(params=sorted(CLOCKS))
def clock(request: pytest.FixtureRequest) -> Clock:
    return CLOCKS[request.param]()


def test_now_is_timezone_aware(clock: Clock) -> None:
    now = clock.now()
    assert now.tzinfo is not None
    assert now.utcoffset() is not None


def test_now_never_runs_backwards(clock: Clock) -> None:
    readings = [clock.now() for _ in range(1000)]
    assert readings == sorted(readings)


def test_a_clock_started_at_an_instant_starts_there() -> None:
    assert FixedClock(START).now() == START
    assert START <= TravellingClock(START, speed=3600).now() < START + timedelta(hours=1)
