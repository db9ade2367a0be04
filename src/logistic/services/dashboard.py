"""What the report dashboard shows: one published report and the slots before it."""

from __future__ import annotations

import logging

from attrs import frozen

from logistic.domain.errors import InvalidInput, ReportNotFound
from logistic.domain.report import Report
from logistic.domain.report_slot import ReportSlot
from logistic.services.reports import Reports

log = logging.getLogger(__name__)

# The trend covers ten days of three slots.
TREND_SLOTS = 30


@frozen
class TrendPoint:
    """One slot of the trend: its report, or None when that slot was not published."""

    slot: ReportSlot
    report: Report | None


@frozen
class DashboardView:
    """The report shown, the oldest-first trend that ends with it, and its neighbours' slots."""

    report: Report
    trend: tuple[TrendPoint, ...]
    previous: ReportSlot | None
    next: ReportSlot | None


class Dashboard:
    """Reads published reports through `Reports`; never publishes one."""

    def __init__(self, reports: Reports, trend_slots: int = TREND_SLOTS) -> None:
        self._reports = reports
        self._trend_slots = trend_slots

    @property
    def zone(self) -> str:
        return self._reports.zone

    def slot(self, text: str) -> ReportSlot:
        """The slot written `2026-11-25T0800`; InvalidInput if it is not one."""
        return self._reports.slot(text)

    def view(self, slot: ReportSlot | None = None) -> DashboardView:
        """The dashboard of `slot`, or of the latest published slot of the trend's span.

        ReportNotFound when `slot` is not published (or, without one, when nothing was
        published in the span); StorageUnavailable when the store fails.
        """
        latest = self._reports.latest_slot()
        if slot is None:
            trend = self._trend(latest)
            shown = next((point for point in reversed(trend) if point.report), None)
            if shown is None:
                raise ReportNotFound(latest.key("json"))
            trend = self._trend(shown.slot) if shown.slot != latest else trend
        else:
            trend = self._trend(slot)
            if trend[-1].report is None:
                raise ReportNotFound(slot.key("json"))
        shown_slot = trend[-1].slot
        report = trend[-1].report
        assert report is not None  # checked above; mypy cannot follow it
        later = shown_slot.next()
        return DashboardView(
            report=report,
            trend=trend,
            previous=self._published_before(trend),
            next=later if later.starts_at_utc <= latest.starts_at_utc else None,
        )

    def _trend(self, last: ReportSlot) -> tuple[TrendPoint, ...]:
        slots = [last]
        while len(slots) < self._trend_slots:
            slots.append(slots[-1].previous())
        return tuple(TrendPoint(slot, self._report(slot)) for slot in reversed(slots))

    def _report(self, slot: ReportSlot) -> Report | None:
        try:
            return Report.from_json_bytes(self._reports.json(slot))
        except ReportNotFound:
            return None
        except InvalidInput as error:
            # Someone else's object under a report's key: shown as a gap, not as a failure.
            log.warning("the report of %s cannot be read: %s", slot.name, error)
            return None

    @staticmethod
    def _published_before(trend: tuple[TrendPoint, ...]) -> ReportSlot | None:
        for point in reversed(trend[:-1]):
            if point.report is not None:
                return point.slot
        return None
