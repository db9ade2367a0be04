"""`logistic backtest-estimate`: the lane estimate trained on one period, scored on the next."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from logistic.domain.backtest import Backtest, backtest
from logistic.domain.errors import InvalidInput
from logistic.domain.lanes import LANE_WINDOW
from logistic.ports.clock import Clock
from logistic.ports.lanes import LaneHistory
from logistic.services.locations import Locations

# By default the last two weeks are held out, and the estimate is trained on what precedes.
HELD_OUT = timedelta(days=14)


class Backtesting:
    def __init__(
        self, lanes: LaneHistory, locations: Locations, clock: Clock, zone: tzinfo
    ) -> None:
        self._lanes = lanes
        self._locations = locations
        self._clock = clock
        self._zone = zone

    def run(
        self, train_until: datetime | None = None, test_until: datetime | None = None
    ) -> Backtest:
        """Stats as the scheduler would have computed them at `train_until` (deliveries of
        the LANE_WINDOW before it), scored on the orders created after it and delivered by
        `test_until`. Defaults: now, and HELD_OUT before `test_until`. InvalidInput."""
        test_until = self._clock.now() if test_until is None else test_until
        train_until = test_until - HELD_OUT if train_until is None else train_until
        if train_until >= test_until:
            raise InvalidInput(
                f"the training must end before the test does ({train_until.isoformat()} "
                f"is not before {test_until.isoformat()})"
            )
        stats = self._lanes.compute(train_until, LANE_WINDOW)
        held_out = self._lanes.deliveries(train_until, test_until, test_until)
        return backtest(stats, held_out, self._locations.by_id(), self._zone)
