"""Which report the dashboard shows, and the trend of the slots before it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from attrs import evolve

from logistic.container import Container
from logistic.domain.errors import InvalidInput, ReportNotFound
from logistic.domain.report import LocationCount, Report, ReportFigures, StuckShipments
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status
from logistic.services.reports import JSON

ZONE = "Asia/Taipei"
# The unit conftest's clock reads 12:00 in Taipei on 2026-11-25: the 08:00 slot is the latest.
LATEST = ReportSlot(date(2026, 11, 25), 8, ZONE)
FIGURES = ReportFigures(
    tracking_summary={Status.CREATED: 3, Status.IN_TRANSIT: 5, Status.DELIVERED: 12},
    total_orders=20,
    by_location=[LocationCount(1, "臺北物流中心", 15), LocationCount(2, "新北物流中心", 5)],
    stuck=StuckShipments(count=1, threshold_hours=72),
    delivered_last_8h=4,
    transit_hours_median=30.0,
    transit_hours_p90=60.5,
    on_time_rate=0.9,
)


def put_report(container: Container, slot: ReportSlot, **changes: object) -> Report:
    """A report of known figures stored as the scheduler stores one."""
    report = Report(slot, datetime(2026, 11, 25, 1, tzinfo=UTC), evolve(FIGURES, **changes))
    container.object_store().put(slot.key("json"), report.to_json_bytes(), JSON, report.metadata())
    return report


def test_the_latest_published_report_is_shown_with_thirty_slots_of_trend(
    container: Container,
) -> None:
    earlier = put_report(container, LATEST.previous(), total_orders=18)
    shown = put_report(container, LATEST)

    view = container.dashboard().view()

    assert view.report == shown
    assert len(view.trend) == 30
    assert view.trend[-1].slot == LATEST
    assert view.trend[0].slot == ReportSlot(date(2026, 11, 15), 16, ZONE)
    assert [point.report for point in view.trend[-2:]] == [earlier, shown]
    assert all(point.report is None for point in view.trend[:-2])
    assert (view.previous, view.next) == (LATEST.previous(), None)


def test_while_the_latest_slot_is_not_published_the_one_before_is_shown(
    container: Container,
) -> None:
    shown = put_report(container, LATEST.previous().previous())

    view = container.dashboard().view()

    assert view.report == shown
    assert view.trend[-1].slot == shown.slot
    assert view.next == LATEST.previous()


def test_another_slot_is_shown_when_asked(container: Container) -> None:
    put_report(container, LATEST)
    asked = LATEST.previous().previous()
    shown = put_report(container, asked, total_orders=7)

    view = container.dashboard().view(asked)

    assert view.report == shown
    assert view.next == asked.next()
    assert view.previous is None


def test_a_slot_not_published_and_no_report_at_all_are_not_found(container: Container) -> None:
    with pytest.raises(ReportNotFound):
        container.dashboard().view()
    put_report(container, LATEST)
    with pytest.raises(ReportNotFound):
        container.dashboard().view(LATEST.previous())


def test_an_unreadable_object_is_a_gap_in_the_trend(container: Container) -> None:
    put_report(container, LATEST)
    container.object_store().put(LATEST.previous().key("json"), b"{}", JSON, {})

    view = container.dashboard().view()

    assert view.trend[-2].report is None
    with pytest.raises(ReportNotFound):
        container.dashboard().view(LATEST.previous())


def test_a_malformed_slot_is_invalid_input(container: Container) -> None:
    with pytest.raises(InvalidInput):
        container.dashboard().slot("2026-11-25T0900")
