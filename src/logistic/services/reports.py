"""Publishing the report of a slot exactly once, and reading published reports."""

from __future__ import annotations

import enum
import hashlib
import logging
import time
from datetime import date, timedelta

from logistic.domain.errors import InvalidInput, ReportNotFound
from logistic.domain.report import Report
from logistic.domain.report_slot import ReportSlot
from logistic.ports.clock import Clock
from logistic.ports.lock import Lock
from logistic.ports.object_store import ObjectStore
from logistic.ports.reports import ReportFigureSource
from logistic.services.metering import (
    LAST_PUBLISHED_SLOT,
    REPORT_RUNS,
    REPORT_SECONDS,
    SILENT,
    Meter,
)

log = logging.getLogger(__name__)

JSON = "application/json; charset=utf-8"
CSV = "text/csv; charset=utf-8"
# Far longer than a report takes; a producer that dies lets others in after this.
LOCK_TTL = timedelta(minutes=10)


class Publication(enum.Enum):
    """What happened when a slot's report was asked for."""

    PUBLISHED = "published"
    ALREADY_PUBLISHED = "already published"
    TAKEN = "taken by another producer"


def lock_name(slot: ReportSlot) -> str:
    return f"report-{slot.name}"


class Reports:
    """The reports of one time zone: published under keys that follow from the slot alone.

    The JSON object is written last, so its presence means the slot is done; a
    producer that fails half-way leaves at most the CSV, which the next attempt
    overwrites.
    """

    def __init__(
        self,
        figures: ReportFigureSource,
        store: ObjectStore,
        lock: Lock,
        clock: Clock,
        zone: str,
        stuck_after: timedelta,
        lock_ttl: timedelta = LOCK_TTL,
        meter: Meter = SILENT,
    ) -> None:
        self._meter = meter
        self._figures = figures
        self._store = store
        self._lock = lock
        self._clock = clock
        self.zone = zone
        self._stuck_after = stuck_after
        self._lock_ttl = lock_ttl

    def latest_slot(self) -> ReportSlot:
        """The slot that started most recently."""
        return ReportSlot.at(self._clock.now(), self.zone)

    def slot(self, text: str) -> ReportSlot:
        """The slot written `2026-11-25T0800` in this service's time zone; InvalidInput if not."""
        return ReportSlot.parse(text, self.zone)

    def is_published(self, slot: ReportSlot) -> bool:
        return self._store.exists(slot.key("json"))

    def publish(self, slot: ReportSlot) -> Publication:
        """Produce the slot's report unless it exists or another producer is making it.

        Raises InvalidInput for a slot that has not started, StorageUnavailable
        when the figures, the store or the lock fail (nothing is half-published then).
        """
        started = time.perf_counter()
        try:
            outcome = self._publish(slot)
        except Exception:
            self._meter.add(REPORT_RUNS, "failed")
            raise
        self._meter.add(REPORT_RUNS, outcome.name.lower())
        if outcome is Publication.PUBLISHED:
            self._meter.observe(REPORT_SECONDS, time.perf_counter() - started)
        if outcome is not Publication.TAKEN:
            self._meter.set(LAST_PUBLISHED_SLOT, slot.starts_at_utc.timestamp())
        return outcome

    def _publish(self, slot: ReportSlot) -> Publication:
        if slot.zone != self.zone:
            raise InvalidInput(f"reports are made in {self.zone}, not in {slot.zone}")
        if slot.starts_at_utc > self._clock.now():
            raise InvalidInput(f"the slot {slot.name} has not started yet")
        if self.is_published(slot):
            return Publication.ALREADY_PUBLISHED
        token = self._lock.acquire(lock_name(slot), self._lock_ttl)
        if token is None:
            return Publication.TAKEN
        try:
            # Another producer may have finished between our look and our lock.
            if self.is_published(slot):
                return Publication.ALREADY_PUBLISHED
            self._write(slot)
            return Publication.PUBLISHED
        finally:
            self._lock.release(token)

    def slots_on(self, day: date) -> list[ReportSlot]:
        """The slots of local day `day` whose report is published, oldest first."""
        slots = []
        for key in self._store.list(ReportSlot.day_prefix(day)):
            if not key.endswith(".json"):
                continue
            try:
                slots.append(ReportSlot.from_key(key, self.zone))
            except InvalidInput:
                log.warning("ignoring %s: not the key of a report", key)
        return sorted(slots)

    def json(self, slot: ReportSlot) -> bytes:
        """The JSON report of `slot`; ReportNotFound when it is not published."""
        return self._store.get(slot.key("json"))

    def csv(self, slot: ReportSlot) -> bytes:
        """The CSV report of `slot`; ReportNotFound when it is not published."""
        if not self.is_published(slot):
            # A CSV without its JSON is a producer's unfinished work.
            raise ReportNotFound(slot.key("csv"))
        return self._store.get(slot.key("csv"))

    def check(self) -> None:
        """Raise ObjectStoreError unless the report store is there and writable."""
        self._store.check()

    def _write(self, slot: ReportSlot) -> None:
        figures = self._figures.figures(slot.starts_at, self._stuck_after)
        report = Report(slot, self._clock.now(), figures)
        body = report.to_csv_bytes()
        metadata = {**report.metadata(), "sha256": hashlib.sha256(body).hexdigest()}
        self._store.put(slot.key("csv"), body, CSV, metadata)
        self._store.put(slot.key("json"), report.to_json_bytes(), JSON, report.metadata())
        log.info("report %s published at %s", slot.name, slot.key("json"))
