"""A published report read back from its JSON, as the dashboard reads it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from logistic.domain.errors import InvalidInput
from logistic.domain.report import LocationCount, Report, ReportFigures, StuckShipments
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status

REPORT = Report(
    ReportSlot(date(2026, 11, 25), 8, "Asia/Taipei"),
    datetime(2026, 11, 25, 0, 0, 3, tzinfo=UTC),
    ReportFigures(
        tracking_summary={Status.IN_TRANSIT: 5, Status.DELIVERED: 12, Status.EXCEPTION: 2},
        total_orders=19,
        by_location=[LocationCount(2, "臺北物流中心", 15), LocationCount(7, "臺中物流中心", 4)],
        stuck=StuckShipments(count=3, threshold_hours=72),
        delivered_last_8h=6,
        transit_hours_median=41.5,
        transit_hours_p90=None,
        on_time_rate=0.75,
    ),
)


def test_a_report_reads_back_as_it_was_written() -> None:
    assert Report.from_json_bytes(REPORT.to_json_bytes()) == REPORT


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\xff",
        b"[]",
        b'{"timezone": "Asia/Taipei"}',
        json.dumps({**REPORT.to_dict(), "slot": "2026-11-25T09:00:00+08:00"}).encode(),
        json.dumps({**REPORT.to_dict(), "timezone": "Mars/Olympus"}).encode(),
        json.dumps({**REPORT.to_dict(), "total_orders": -1}).encode(),
        json.dumps({**REPORT.to_dict(), "trackingSummary": {"Lost": 1}}).encode(),
        json.dumps({**REPORT.to_dict(), "by_location": [{"id": 1}]}).encode(),
        json.dumps({**REPORT.to_dict(), "generated_at": "2026-11-25T08:00:03"}).encode(),
    ],
    ids=["empty", "not-utf8", "not-an-object", "incomplete", "off-slot", "zone", "negative",
         "status", "location", "naive"],
)  # fmt: skip
def test_anything_else_is_invalid_input(body: bytes) -> None:
    with pytest.raises(InvalidInput):
        Report.from_json_bytes(body)
