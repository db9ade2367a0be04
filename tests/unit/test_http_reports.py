"""GET /reports through the Flask app, with every port in memory."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from logistic.container import Container

# The unit conftest's clock reads 12:00 in Taipei on 2026-11-25.
DAY = "2026-11-25"


@pytest.fixture
def published(container: Container) -> Container:
    container.seeding().seed(30, seed=5)
    reports = container.reports()
    for name in ("2026-11-25T0000", "2026-11-25T0800"):
        reports.publish(reports.slot(name))
    return container


def test_a_day_lists_its_published_slots(client: FlaskClient, published: Container) -> None:
    response = client.get(f"/reports?date={DAY}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["data"]["timezone"] == "Asia/Taipei"
    assert body["data"]["reports"] == [
        {
            "slot": "2026-11-25T0000",
            "starts_at": "2026-11-25T00:00:00+08:00",
            "json": "/reports/2026-11-25T0000",
            "csv": "/reports/2026-11-25T0000.csv",
        },
        {
            "slot": "2026-11-25T0800",
            "starts_at": "2026-11-25T08:00:00+08:00",
            "json": "/reports/2026-11-25T0800",
            "csv": "/reports/2026-11-25T0800.csv",
        },
    ]


def test_without_a_date_today_in_the_report_zone_is_listed(
    client: FlaskClient, published: Container
) -> None:
    assert client.get("/reports").get_json()["data"]["date"] == DAY


def test_a_day_without_reports_lists_none(client: FlaskClient, published: Container) -> None:
    assert client.get("/reports?date=2026-11-24").get_json()["data"]["reports"] == []


def test_a_slot_is_served_as_the_stored_json_bytes(
    client: FlaskClient, published: Container
) -> None:
    response = client.get("/reports/2026-11-25T0800")

    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    reports = published.reports()
    assert response.data == reports.json(reports.slot("2026-11-25T0800"))
    document = json.loads(response.data)
    assert document["slot"] == "2026-11-25T08:00:00+08:00"
    assert 0 < document["total_orders"] <= 30  # orders created after 08:00 are left out
    assert client.get("/reports/2026-11-25T0800.json").data == response.data


def test_a_slot_is_served_as_csv(client: FlaskClient, published: Container) -> None:
    response = client.get("/reports/2026-11-25T0800.csv")

    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.data.startswith(b"metric,key,value\r\n")


@pytest.mark.parametrize("path", ["/reports/2026-11-25T1600", "/reports/2026-11-24T0800.csv"])
def test_a_missing_slot_is_a_json_404(client: FlaskClient, published: Container, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.get_json()["status"] == "error"
    assert response.get_json()["error"]["code"] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/reports/2026-11-25T0900",
        "/reports/2026-11-25T0830",
        "/reports/2026-13-25T0800",
        "/reports/yesterday",
        "/reports/2026-11-25T0800.pdf",
        "/reports?date=2026-11-31",
        "/reports?date=25-11-2026",
        "/reports?date=2026-11-25&date=2026-11-26",
    ],
)
def test_a_malformed_slot_or_date_is_a_json_400(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "error"
    assert body["error"]["message"]
