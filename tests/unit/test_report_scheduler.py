"""The report scheduler driven by a fixed clock: on time, caught up once, retried, one producer."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from datetime import date, datetime, timedelta

import pytest

from logistic.adapters.clock import FixedClock
from logistic.adapters.memory_store import MemoryLock
from logistic.domain.errors import ObjectStoreError
from logistic.domain.report_slot import ReportSlot
from logistic.entrypoints.scheduler import Backoff, ReportScheduler
from logistic.services.reports import Reports
from tests.reporting import TAIPEI, ZONE, RecordingStore, StaticFigures, reports_service

GRACE = timedelta(hours=8)
STEP = timedelta(seconds=30)


class Pauses:
    """Records the backoff pauses instead of sleeping through them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI)


def slot(day: int, hour: int) -> ReportSlot:
    return ReportSlot(date(2026, 11, day), hour, ZONE)


def scheduler_for(reports: Reports, clock: FixedClock) -> ReportScheduler:
    return ReportScheduler(reports, clock, GRACE, pause=Pauses())


def run_until(scheduler: ReportScheduler, clock: FixedClock, end: datetime) -> None:
    while clock.now() < end:
        scheduler.tick()
        clock.advance(STEP)


def generated_at(reports: Reports, report_slot: ReportSlot) -> datetime:
    return datetime.fromisoformat(json.loads(reports.json(report_slot))["generated_at"])


def test_a_day_yields_three_reports_each_at_its_local_time() -> None:
    clock, store = FixedClock(at(24, 16) + STEP), RecordingStore()
    reports = reports_service(clock, store=store)

    run_until(scheduler_for(reports, clock), clock, at(26, 0) - STEP)

    assert reports.slots_on(date(2026, 11, 25)) == [slot(25, 0), slot(25, 8), slot(25, 16)]
    for hour in (0, 8, 16):
        produced = generated_at(reports, slot(25, hour))
        assert at(25, hour) <= produced < at(25, hour) + STEP
    assert set(store.writes.values()) == {1}
    assert len(store.writes) == 2 * 4  # JSON and CSV of 24T16, 25T00, 25T08 and 25T16


def test_a_slot_missed_while_stopped_is_caught_up_once_on_restart() -> None:
    clock, store = FixedClock(at(25, 0, 1)), RecordingStore()
    reports = reports_service(clock, store=store)
    run_until(scheduler_for(reports, clock), clock, at(25, 7))

    clock.set(at(25, 15))  # stopped from 07:00 to 15:00: the 08:00 run was missed
    run_until(scheduler_for(reports, clock), clock, at(25, 16, 30))

    assert reports.slots_on(date(2026, 11, 25)) == [slot(25, 0), slot(25, 8), slot(25, 16)]
    assert generated_at(reports, slot(25, 8)) == at(25, 15)
    assert set(store.writes.values()) == {1}


def test_a_slot_missed_beyond_the_grace_window_is_not_caught_up() -> None:
    clock = FixedClock(at(25, 0, 1))
    reports = reports_service(clock)
    run_until(scheduler_for(reports, clock), clock, at(25, 7))

    clock.set(at(25, 16, 30))  # the 08:00 slot started eight and a half hours ago
    run_until(scheduler_for(reports, clock), clock, at(25, 23))

    assert reports.slots_on(date(2026, 11, 25)) == [slot(25, 0), slot(25, 16)]


def test_a_pause_of_the_running_process_is_caught_up_once() -> None:
    clock, store = FixedClock(at(25, 7, 59)), RecordingStore()
    reports = reports_service(clock, store=store)
    scheduler = scheduler_for(reports, clock)
    scheduler.tick()

    clock.set(at(25, 15, 30))  # the laptop slept through 08:00
    scheduler.tick()
    scheduler.tick()

    assert generated_at(reports, slot(25, 8)) == at(25, 15, 30)
    assert store.writes[slot(25, 8).key("json")] == 1


def test_store_failures_are_retried_with_backoff_and_leave_one_report() -> None:
    clock, store = FixedClock(at(25, 8, 1)), RecordingStore()
    reports = reports_service(clock, store=store)
    pauses = Pauses()
    scheduler = ReportScheduler(reports, clock, GRACE, backoff=Backoff(attempts=4), pause=pauses)
    store.failures = 3

    scheduler.tick()
    scheduler.tick()

    assert pauses.seconds == [2.0, 4.0, 8.0]
    assert store.list() == [slot(25, 8).key("csv"), slot(25, 8).key("json")]
    assert set(store.writes.values()) == {1}


class FailingFirstJson(RecordingStore):
    """Fails the first JSON write, after its CSV went through."""

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str]) -> None:
        if key.endswith(".json") and not self.writes[key] and not getattr(self, "failed", False):
            self.failed = True
            raise ObjectStoreError(f"injected failure writing {key}")
        super().put(key, body, content_type, metadata)


def test_a_json_write_that_fails_after_its_csv_is_retried_into_one_pair() -> None:
    clock, store = FixedClock(at(25, 8, 1)), FailingFirstJson()
    reports = reports_service(clock, store=store)

    scheduler_for(reports, clock).tick()

    assert store.list() == [slot(25, 8).key("csv"), slot(25, 8).key("json")]
    assert store.writes[slot(25, 8).key("json")] == 1


def test_a_slot_failing_every_attempt_rests_then_succeeds_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, store = FixedClock(at(25, 8, 1)), RecordingStore()
    reports = reports_service(clock, store=store)
    cooldown = timedelta(minutes=5)
    scheduler = ReportScheduler(
        reports, clock, GRACE, backoff=Backoff(attempts=3), cooldown=cooldown, pause=Pauses()
    )
    store.failures = 3

    with caplog.at_level(logging.WARNING):
        scheduler.tick()
    clock.advance(cooldown - timedelta(seconds=1))
    scheduler.tick()
    assert not reports.is_published(slot(25, 8))

    clock.advance(timedelta(seconds=1))
    scheduler.tick()

    assert reports.is_published(slot(25, 8))
    assert "failed 3 times" in caplog.text


def test_an_unexpected_error_is_logged_with_its_traceback_and_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FixedClock(at(25, 8, 1))
    calls = []

    def broken_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ZeroDivisionError("a bug")

    reports = reports_service(clock, figures=StaticFigures(during=broken_once))

    with caplog.at_level(logging.WARNING):
        scheduler_for(reports, clock).tick()

    assert reports.is_published(slot(25, 8))
    assert any(record.exc_info for record in caplog.records)


def test_two_schedulers_sharing_a_lock_produce_one_object_per_slot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, store = FixedClock(at(24, 23, 0)), RecordingStore()
    lock = MemoryLock(clock)
    second_figures = StaticFigures()
    second = scheduler_for(
        reports_service(clock, store=store, lock=lock, figures=second_figures), clock
    )
    # While the first computes a report, the second wakes up and tries the same slot.
    first_figures = StaticFigures(during=second.tick)
    first = scheduler_for(
        reports_service(clock, store=store, lock=lock, figures=first_figures), clock
    )

    with caplog.at_level(logging.INFO):
        while clock.now() < at(26, 0):
            first.tick()
            second.tick()
            clock.advance(STEP)

    assert len(store.list("reports/2026/11/25/")) == 6
    assert set(store.writes.values()) == {1}
    assert second_figures.as_of == []
    assert "is taken: another producer holds its lock" in caplog.text


def test_stopping_ends_the_round_between_jobs() -> None:
    clock = FixedClock(at(25, 8, 30))
    scheduler: ReportScheduler | None = None

    def stop() -> None:
        assert scheduler is not None
        scheduler.stop()

    reports = reports_service(clock, figures=StaticFigures(during=stop))
    scheduler = ReportScheduler(reports, clock, timedelta(hours=16), pause=Pauses())

    scheduler.tick()  # 00:00 and 08:00 are due

    assert reports.slots_on(date(2026, 11, 25)) == [slot(25, 0)]


def test_stopping_abandons_the_backoff() -> None:
    clock, store = FixedClock(at(25, 8, 1)), RecordingStore()
    store.failures = 10
    scheduler: ReportScheduler | None = None

    def pause(_: float) -> None:
        assert scheduler is not None
        scheduler.stop()

    scheduler = ReportScheduler(reports_service(clock, store=store), clock, GRACE, pause=pause)
    scheduler.tick()

    assert store.failures == 9


def test_run_produces_the_due_slot_and_returns_when_stopped() -> None:
    clock = FixedClock(at(25, 8, 1))
    reports = reports_service(clock)
    scheduler = ReportScheduler(reports, clock, GRACE)
    thread = threading.Thread(target=scheduler.run)

    thread.start()
    try:
        for _ in range(100):
            if reports.is_published(slot(25, 8)):
                break
            threading.Event().wait(0.02)
    finally:
        scheduler.stop()
        thread.join(timeout=5)

    assert not thread.is_alive()
    assert reports.is_published(slot(25, 8))
