"""`logistic scheduler`: each slot's report produced once, on time or caught up within the grace.

The slots are read from the clock port, not from the wall clock: every tick
(a `schedule` job, once a second) asks which slots started within the grace
window and produces those whose report is missing. So a slot is produced at
its time, at start-up, and after any pause (a laptop sleep, a long GC, a
restart) alike, a fixed clock drives it in tests, and a travelling clock
replays a day in a minute. Replicas share the lock and the store, so one
produces a slot and the others find it taken or already published.

At every slot the lanes' transit-time stats are recomputed too (as of the slot's
start), once: a replica that finds them as recent leaves them.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

import schedule
from attrs import frozen

from logistic.domain.errors import DomainError
from logistic.domain.report_slot import ReportSlot, due_slots
from logistic.ports.clock import Clock
from logistic.services.lane_estimates import LaneEstimates
from logistic.services.reports import Publication, Reports

log = logging.getLogger(__name__)

TICK_SECONDS = 1
HEARTBEAT_MINUTES = 60
# After a slot failed every attempt, it rests this long (on the clock) before the next round.
COOLDOWN = timedelta(minutes=5)


@frozen
class Backoff:
    """A failed job is tried `attempts` times in all, waiting twice as long after each failure."""

    attempts: int = 4
    first_delay: float = 2.0
    longest_delay: float = 60.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure."""
        return float(min(self.first_delay * 2 ** (failures - 1), self.longest_delay))


class ReportScheduler:
    """Produces the due slots of `reports`; `tick` does one round, `run` loops until `stop`."""

    def __init__(
        self,
        reports: Reports,
        clock: Clock,
        grace: timedelta,
        backoff: Backoff = Backoff(),
        cooldown: timedelta = COOLDOWN,
        pause: Callable[[float], object] | None = None,
        lanes: LaneEstimates | None = None,
    ) -> None:
        self._reports = reports
        self._lanes = lanes
        self._lanes_resting_until: datetime | None = None
        self._clock = clock
        self._grace = grace
        self._backoff = backoff
        self._cooldown = cooldown
        self._stopping = threading.Event()
        self._pause = pause or self._stopping.wait
        self._done: set[ReportSlot] = set()
        self._resting_until: dict[ReportSlot, datetime] = {}
        self._seen_taken: set[ReportSlot] = set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the loop to end; a job under way finishes first."""
        self._stopping.set()

    def tick(self) -> None:
        """Produce, oldest first, every slot of the grace window whose report is missing."""
        now = self._clock.now()
        due = due_slots(now, self._grace, self._reports.zone)
        self._forget_all_but(set(due))
        for slot in due:
            if self.stopping:
                return
            if slot in self._done or self._resting_until.get(slot, now) > now:
                continue
            self._produce(slot)
        self._refresh_lanes(now)

    def _refresh_lanes(self, now: datetime) -> None:
        """The lane stats as of the latest slot's start, unless they are; a failure rests
        for the cooldown, then the next tick tries again."""
        if self._lanes is None or self.stopping:
            return
        if self._lanes_resting_until is not None and self._lanes_resting_until > now:
            return
        slot = ReportSlot.at(now, self._reports.zone)
        try:
            self._lanes.keep_up(slot.starts_at_utc)
        except Exception as error:
            trace = None if isinstance(error, DomainError) else error
            log.warning(
                "lane stats of slot %s failed; trying again in %s: %s",
                slot.name,
                self._cooldown,
                error,
                exc_info=trace,
            )
            self._lanes_resting_until = now + self._cooldown
            return
        self._lanes_resting_until = None

    def run(self) -> None:
        """Tick once a second until `stop` (or SIGTERM/SIGINT, see `stop_on_signals`)."""
        jobs = schedule.Scheduler()
        jobs.every(TICK_SECONDS).seconds.do(self._tick_safely)
        jobs.every(HEARTBEAT_MINUTES).minutes.do(self._heartbeat)
        log.info(
            "scheduler started: slots 00:00, 08:00 and 16:00 in %s, catching up %s back",
            self._reports.zone,
            self._grace,
        )
        self._tick_safely()
        while not self.stopping:
            jobs.run_pending()
            idle = jobs.idle_seconds
            self._stopping.wait(min(max(idle if idle is not None else 0.0, 0.0), TICK_SECONDS))
        log.info("scheduler stopped")

    def _produce(self, slot: ReportSlot) -> None:
        for attempt in range(1, self._backoff.attempts + 1):
            try:
                outcome = self._reports.publish(slot)
            except Exception as error:
                self._log_failure(slot, attempt, error)
                if attempt == self._backoff.attempts:
                    self._resting_until[slot] = self._clock.now() + self._cooldown
                    return
                self._pause(self._backoff.delay(attempt))
                if self.stopping:
                    return
                continue
            self._record(slot, outcome)
            return

    def _record(self, slot: ReportSlot, outcome: Publication) -> None:
        if outcome is Publication.TAKEN:
            # Looked at again on the next tick, when the producer has usually finished.
            if slot not in self._seen_taken:
                log.info("report %s is taken: another producer holds its lock", slot.name)
                self._seen_taken.add(slot)
            return
        if outcome is Publication.ALREADY_PUBLISHED:
            log.info("report %s is already published", slot.name)
        self._done.add(slot)
        self._resting_until.pop(slot, None)

    def _log_failure(self, slot: ReportSlot, attempt: int, error: Exception) -> None:
        attempts = self._backoff.attempts
        # Our own errors say what failed; anything else is a bug worth its traceback.
        trace = None if isinstance(error, DomainError) else error
        if attempt < attempts:
            log.warning(
                "report %s failed (attempt %d of %d), retrying in %.0f s: %s",
                slot.name,
                attempt,
                attempts,
                self._backoff.delay(attempt),
                error,
                exc_info=trace,
            )
        else:
            log.error(
                "report %s failed %d times; trying again in %s if still within the grace: %s",
                slot.name,
                attempts,
                self._cooldown,
                error,
                exc_info=trace,
            )

    def _forget_all_but(self, due: set[ReportSlot]) -> None:
        self._done &= due
        self._seen_taken &= due
        for slot in set(self._resting_until) - due:
            del self._resting_until[slot]

    def _tick_safely(self) -> None:
        try:
            self.tick()
        except Exception:
            log.exception("scheduler tick failed; the next tick tries again")

    def _heartbeat(self) -> None:
        upcoming = ReportSlot.at(self._clock.now(), self._reports.zone).next()
        log.info("scheduler alive; next slot %s", upcoming.name)


def stop_on_signals(scheduler: ReportScheduler) -> None:
    """SIGTERM and SIGINT end the loop between jobs (call from the main thread)."""

    def _stop(signum: int, _: FrameType | None) -> None:
        log.info("received %s; stopping after the current job", signal.Signals(signum).name)
        scheduler.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
