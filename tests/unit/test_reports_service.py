"""Publishing one slot: once, CSV before JSON, nothing when taken, never a future slot."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

import pytest

from logistic.adapters.clock import FixedClock
from logistic.adapters.memory_store import MemoryLock
from logistic.domain.errors import InvalidInput, ObjectStoreError, ReportNotFound
from logistic.domain.report_slot import ReportSlot
from logistic.services.reports import LOCK_TTL, Publication, lock_name
from tests.reporting import TAIPEI, ZONE, RecordingStore, StaticFigures, reports_service

SLOT = ReportSlot(date(2026, 11, 25), 8, ZONE)
AFTER = datetime(2026, 11, 25, 8, 0, 2, tzinfo=TAIPEI)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AFTER)


def test_a_slot_is_published_as_csv_then_json_with_its_checksums(clock: FixedClock) -> None:
    store, figures = RecordingStore(), StaticFigures()
    reports = reports_service(clock, store=store, figures=figures)

    assert reports.publish(SLOT) is Publication.PUBLISHED

    assert list(store.writes) == ["reports/2026/11/25/0800.csv", "reports/2026/11/25/0800.json"]
    assert figures.as_of == [SLOT.starts_at]
    body = reports.json(SLOT)
    document = json.loads(body)
    assert document["slot"] == "2026-11-25T08:00:00+08:00"
    assert document["generated_at"] == "2026-11-25T08:00:02+08:00"
    assert document["timezone"] == ZONE
    assert store.metadata(SLOT.key("json"))["sha256"] == hashlib.sha256(body).hexdigest()
    csv = reports.csv(SLOT)
    assert csv.startswith(b"metric,key,value\r\n")
    assert store.metadata(SLOT.key("csv"))["sha256"] == hashlib.sha256(csv).hexdigest()


def test_publishing_again_writes_nothing(clock: FixedClock) -> None:
    store, figures = RecordingStore(), StaticFigures()
    reports = reports_service(clock, store=store, figures=figures)
    reports.publish(SLOT)

    assert reports.publish(SLOT) is Publication.ALREADY_PUBLISHED

    assert sum(store.writes.values()) == 2
    assert len(figures.as_of) == 1


def test_a_slot_whose_lock_is_held_elsewhere_is_left_alone(clock: FixedClock) -> None:
    lock, store = MemoryLock(clock), RecordingStore()
    assert lock.acquire(lock_name(SLOT), LOCK_TTL) is not None

    outcome = reports_service(clock, store=store, lock=lock).publish(SLOT)

    assert outcome is Publication.TAKEN
    assert not store.writes


def test_the_lock_is_released_after_a_failure(clock: FixedClock) -> None:
    lock, store = MemoryLock(clock), RecordingStore()
    store.failures = 1
    reports = reports_service(clock, store=store, lock=lock)

    with pytest.raises(ObjectStoreError):
        reports.publish(SLOT)

    assert not reports.is_published(SLOT)
    assert reports.publish(SLOT) is Publication.PUBLISHED


def test_a_csv_left_by_a_failed_producer_is_not_served(clock: FixedClock) -> None:
    store = RecordingStore()
    store.put(SLOT.key("csv"), b"half", "text/csv", {})
    reports = reports_service(clock, store=store)

    with pytest.raises(ReportNotFound):
        reports.csv(SLOT)
    assert reports.slots_on(SLOT.day) == []


def test_a_slot_that_has_not_started_is_refused(clock: FixedClock) -> None:
    reports = reports_service(clock)

    with pytest.raises(InvalidInput, match="not started"):
        reports.publish(SLOT.next())


def test_the_latest_slot_follows_the_clock(clock: FixedClock) -> None:
    reports = reports_service(clock)
    assert reports.latest_slot() == SLOT

    clock.advance(timedelta(hours=8))

    assert reports.latest_slot() == SLOT.next()


def test_the_published_slots_of_a_day_are_listed_in_order(clock: FixedClock) -> None:
    reports = reports_service(clock)
    clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=TAIPEI))
    midnight = SLOT.previous()
    for slot in (SLOT.next(), midnight, SLOT.next().next()):
        reports.publish(slot)

    assert reports.slots_on(date(2026, 11, 25)) == [midnight, SLOT.next()]
    assert reports.slots_on(date(2026, 11, 26)) == [SLOT.next().next()]


def test_objects_that_are_not_reports_are_not_listed(clock: FixedClock) -> None:
    store = RecordingStore()
    reports = reports_service(clock, store=store)
    reports.publish(SLOT)
    store.put("reports/2026/11/25/notes.json", b"{}", "application/json", {})
    store.put("reports/2026/11/25/0830.json", b"{}", "application/json", {})

    assert reports.slots_on(SLOT.day) == [SLOT]
