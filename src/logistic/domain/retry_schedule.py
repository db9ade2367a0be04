"""When a failed webhook message is tried again: the Standard Webhooks senders' schedule."""

from __future__ import annotations

import random
from datetime import timedelta

from attrs import field, frozen

from logistic.domain.errors import InvalidInput

# Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours in all.
STANDARD = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
# Each delay is stretched or shrunk by up to this share, so that the retries of an
# outage do not all arrive at the same second.
JITTER = 0.1


def _delays(values: tuple[float, ...]) -> tuple[float, ...]:
    if not values or any(value < 0 for value in values):
        raise InvalidInput("a retry schedule is one or more delays of at least 0 seconds")
    return values


@frozen
class RetrySchedule:
    """The delay before each attempt: `delays[0]` before the first, then one per failure."""

    delays: tuple[float, ...] = field(default=STANDARD, converter=_delays)

    @classmethod
    def parse(cls, text: str) -> RetrySchedule:
        """Seconds separated by commas, e.g. "0,5,300"; InvalidInput otherwise."""
        try:
            return cls(tuple(float(item) for item in text.split(",")))
        except ValueError:
            raise InvalidInput(f"{text!r} is not delays in seconds separated by commas") from None

    @property
    def attempts(self) -> int:
        return len(self.delays)

    def after_failure(self, failures: int, rng: random.Random) -> timedelta | None:
        """How long to wait after the `failures`-th failed attempt; None when it was the last."""
        if failures >= len(self.delays):
            return None
        delay = self.delays[failures]
        return timedelta(seconds=delay * (1 + rng.uniform(-JITTER, JITTER)))
