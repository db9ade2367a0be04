"""A report as JSON (the primary) and CSV, and the SHA-256 stored beside it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from attrs import evolve

from logistic.domain.errors import InvalidInput
from logistic.domain.report import LocationCount, Report, ReportFigures, StuckShipments
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status

SLOT = ReportSlot(date(2026, 11, 25), 8, "Asia/Taipei")
GENERATED_AT = datetime(2026, 11, 25, 0, 0, 3, tzinfo=UTC)


FIGURES = ReportFigures(
    tracking_summary={Status.IN_TRANSIT: 5, Status.DELIVERED: 12, Status.EXCEPTION: 2},
    total_orders=19,
    by_location=[LocationCount(7, "臺中物流中心", 4), LocationCount(2, "臺北物流中心", 15)],
    stuck=StuckShipments(count=3, threshold_hours=72),
    delivered_last_8h=6,
    transit_hours_median=41.5,
    transit_hours_p90=70.25,
    on_time_rate=0.75,
)


def figures(**changes: Any) -> ReportFigures:
    return evolve(FIGURES, **changes)


@pytest.fixture
def report() -> Report:
    return Report(SLOT, GENERATED_AT, figures())


def test_the_summary_holds_every_status_in_lifecycle_order_with_zeros() -> None:
    summary = figures().tracking_summary

    assert [status for status, _ in summary] == list(Status)
    assert dict(summary)[Status.CREATED] == 0
    assert dict(summary)[Status.DELIVERED] == 12
    assert figures().exceptions == 2


def test_status_names_from_the_database_are_accepted() -> None:
    from_rows = figures(tracking_summary=[("Delivered", 12), ("In Transit", 5), ("Exception", 2)])

    assert from_rows == figures()


@pytest.mark.parametrize(
    "changes",
    [
        {"tracking_summary": {"Lost": 1}},
        {"tracking_summary": [("Delivered", 1), ("Delivered", 2)]},
        {"tracking_summary": {"Delivered": -1}},
        {"total_orders": -1},
        {"on_time_rate": 1.5},
        {"transit_hours_median": float("nan")},
        {"transit_hours_p90": -2.0},
    ],
)
def test_impossible_figures_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        figures(**changes)


def test_json_names_the_slot_its_time_zone_and_keeps_tracking_summary(report: Report) -> None:
    document = json.loads(report.to_json_bytes())

    assert document["slot"] == "2026-11-25T08:00:00+08:00"
    assert document["generated_at"] == "2026-11-25T08:00:03+08:00"
    assert document["timezone"] == "Asia/Taipei"
    assert document["trackingSummary"] == {
        "Created": 0,
        "Package Received": 0,
        "In Transit": 5,
        "Out for Delivery": 0,
        "Delivery Attempted": 0,
        "Delivered": 12,
        "Returned to Sender": 0,
        "Exception": 2,
    }
    assert document["total_orders"] == 19
    assert document["exceptions"] == 2
    assert document["stuck"] == {"count": 3, "threshold_hours": 72}
    assert document["delivered_last_8h"] == 6
    assert document["transit_hours"] == {"median": 41.5, "p90": 70.25}
    assert document["on_time_rate"] == 0.75
    assert document["by_location"] == [
        {"id": 2, "title": "臺北物流中心", "count": 15},
        {"id": 7, "title": "臺中物流中心", "count": 4},
    ]


def test_json_is_utf8_and_the_same_bytes_every_time(report: Report) -> None:
    body = report.to_json_bytes()

    assert "臺北物流中心".encode() in body
    assert b"\\u" not in body
    assert body == Report(SLOT, GENERATED_AT, figures()).to_json_bytes()
    assert list(json.loads(body)) == [
        "slot",
        "generated_at",
        "timezone",
        "trackingSummary",
        "total_orders",
        "exceptions",
        "stuck",
        "delivered_last_8h",
        "transit_hours",
        "on_time_rate",
        "by_location",
    ]


def test_missing_figures_are_null_in_json_and_empty_in_csv() -> None:
    empty = Report(
        SLOT,
        GENERATED_AT,
        figures(transit_hours_median=None, transit_hours_p90=None, on_time_rate=None),
    )

    document = json.loads(empty.to_json_bytes())
    rows = {(metric, key): value for metric, key, value in _csv_rows(empty)}

    assert document["transit_hours"] == {"median": None, "p90": None}
    assert document["on_time_rate"] is None
    assert rows[("transit_hours", "median")] == ""
    assert rows[("on_time_rate", "")] == ""


def test_csv_holds_the_same_numbers_as_json(report: Report) -> None:
    document = json.loads(report.to_json_bytes())
    rows = _csv_rows(report)
    values = {(metric, key): value for metric, key, value in rows}

    assert len(values) == len(rows)
    assert values[("slot", "")] == document["slot"]
    assert values[("generated_at", "")] == document["generated_at"]
    assert values[("timezone", "")] == document["timezone"]
    assert {
        key: int(value) for (metric, key), value in values.items() if metric == "trackingSummary"
    } == document["trackingSummary"]
    assert int(values[("total_orders", "")]) == document["total_orders"]
    assert int(values[("exceptions", "")]) == document["exceptions"]
    assert int(values[("stuck", "count")]) == document["stuck"]["count"]
    assert int(values[("stuck", "threshold_hours")]) == document["stuck"]["threshold_hours"]
    assert int(values[("delivered_last_8h", "")]) == document["delivered_last_8h"]
    assert float(values[("transit_hours", "median")]) == document["transit_hours"]["median"]
    assert float(values[("transit_hours", "p90")]) == document["transit_hours"]["p90"]
    assert float(values[("on_time_rate", "")]) == document["on_time_rate"]
    assert {
        key: int(value) for (metric, key), value in values.items() if metric == "by_location"
    } == {location["title"]: location["count"] for location in document["by_location"]}


def test_the_sha256_is_that_of_the_json_body_and_goes_in_the_metadata(report: Report) -> None:
    digest = hashlib.sha256(report.to_json_bytes()).hexdigest()

    assert report.sha256 == digest
    assert report.metadata() == {
        "slot": "2026-11-25T0800",
        "generated-at": "2026-11-25T08:00:03+08:00",
        "timezone": "Asia/Taipei",
        "sha256": digest,
    }


def test_a_naive_generation_time_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Report(SLOT, datetime(2026, 11, 25, 8), figures())


def _csv_rows(report: Report) -> list[tuple[str, str, str]]:
    reader = csv.reader(io.StringIO(report.to_csv_bytes().decode("utf-8"), newline=""))
    header, *rows = list(reader)
    assert header == ["metric", "key", "value"]
    return [(metric, key, value) for metric, key, value in rows]
