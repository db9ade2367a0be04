"""GET /query through the Flask app with every port in memory."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient

from logistic.adapters.memory import FailingCache
from logistic.container import Container
from logistic.domain.errors import CacheUnavailable
from logistic.domain.model import TrackingEvent
from logistic.domain.privacy import mask_name


def _one_order(container: Container) -> int:
    return container.fake_orders().create(1)[0].sno


def _order_in_flight(container: Container) -> int:
    """An order that can still take an event (most fake orders can)."""
    for shipment in container.fake_orders().create(50):
        if shipment.allowed_next():
            return shipment.sno
    raise AssertionError("50 fake orders and none in flight: the generator is broken")


def test_query_answers_the_original_shape(client: FlaskClient, container: Container) -> None:
    sno = _one_order(container)
    shipment = container.shipments().get(sno)
    assert shipment is not None

    response = client.get(f"/query?sno={sno}")

    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    body = response.get_json()
    assert list(body) == [
        "sno",
        "tracking_status",
        "estimated_delivery",
        "current_location",
        "details",
        "recipient",
    ]
    assert body["sno"] == str(sno)
    assert body["tracking_status"] == shipment.current_status
    assert set(body["current_location"]) == {"address", "location_id", "title"}
    assert body["current_location"]["location_id"] == shipment.current_location_id
    assert set(body["recipient"]) == {"address", "id", "name", "phone"}
    # Anonymous callers see the recipient masked (test_http_privacy.py has the rules).
    assert body["recipient"]["name"] == mask_name(shipment.recipient.name)
    assert [detail["status"] for detail in body["details"]] == list(shipment.statuses)
    for detail in body["details"]:
        assert set(detail) == {"date", "id", "location_id", "location_title", "status", "timestamp"}
        assert detail["timestamp"].endswith("+08:00")
        assert detail["timestamp"].startswith(detail["date"])
        assert detail["location_title"].endswith("物流中心")
    assert len(body["estimated_delivery"]) == 10


def test_chinese_text_is_sent_as_utf8_not_escapes(
    client: FlaskClient, container: Container
) -> None:
    sno = _one_order(container)
    raw = client.get(f"/query?sno={sno}").data
    assert "物流中心".encode() in raw
    assert b"\\u" not in raw


def test_dates_are_local_to_the_service_time_zone(
    client: FlaskClient, container: Container
) -> None:
    sno = _one_order(container)
    shipment = container.shipments().get(sno)
    assert shipment is not None
    body = client.get(f"/query?sno={sno}").get_json()
    first = shipment.events[0].occurred_at + timedelta(hours=8)
    assert body["details"][0]["date"] == first.date().isoformat()


def test_second_query_serves_the_cached_bytes(client: FlaskClient, container: Container) -> None:
    sno = _order_in_flight(container)
    first = client.get(f"/query?sno={sno}")
    shipment = container.shipments().get(sno)
    assert shipment is not None
    # Change the database behind the cache: the cached bytes must still be served.
    status = sorted(shipment.allowed_next())[0]
    event = TrackingEvent(status, 1, shipment.events[-1].occurred_at)
    container.shipments().append_event(sno, event, len(shipment.events))

    second = client.get(f"/query?sno={sno}")

    assert second.status_code == first.status_code
    assert second.data == first.data
    left = int(first.headers["X-RateLimit-Remaining"])
    assert second.headers["X-RateLimit-Remaining"] == str(left - 1)
    del first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]
    del first.headers["X-Request-ID"], second.headers["X-Request-ID"]
    assert dict(second.headers) == dict(first.headers)


def test_cache_entry_expires_after_the_ttl(client: FlaskClient, container: Container) -> None:
    sno = _order_in_flight(container)
    client.get(f"/query?sno={sno}")
    shipment = container.shipments().get(sno)
    assert shipment is not None
    status = sorted(shipment.allowed_next())[0]
    event = TrackingEvent(status, 1, shipment.events[-1].occurred_at)
    container.shipments().append_event(sno, event, len(shipment.events))

    container.clock().advance(timedelta(hours=4))

    assert client.get(f"/query?sno={sno}").get_json()["tracking_status"] == status


def test_query_answers_from_the_database_when_the_cache_is_down(
    client: FlaskClient, container: Container
) -> None:
    sno = _one_order(container)
    container.tracking.reset()
    container.cache.override(providers.Object(FailingCache(lambda: CacheUnavailable("down"))))

    response = client.get(f"/query?sno={sno}")

    assert response.status_code == 200
    assert response.get_json()["sno"] == str(sno)


def test_unknown_sno_is_404_json(client: FlaskClient) -> None:
    response = client.get("/query?sno=999999")
    assert response.status_code == 404
    assert response.get_json() == {
        "status": "error",
        "data": None,
        "error": {"code": 404, "message": "no shipment with sno 999999"},
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?sno=",
        "?sno=1.5",
        "?sno=12abc",
        "?sno=-1",
        "?sno=%EF%BC%90",  # full-width zero
        "?sno=%C2%B2",  # superscript two
        "?sno=0",
        "?sno=%201",
        "?sno=1%0A",
        "?sno=99999999999999999999",
        "?sno=9223372036854775808",
        "?sno=" + "9" * 10_000,
        "?sno=1&sno=2",
    ],
)
def test_bad_sno_is_400_json(client: FlaskClient, query: str) -> None:
    response = client.get(f"/query{query}")
    assert response.status_code == 400
    body = json.loads(response.data)
    assert body["status"] == "error"
    assert body["data"] is None
    assert body["error"]["code"] == 400
    assert "sno" in body["error"]["message"]
    assert len(response.data) < 500


def test_largest_sno_is_valid_input(client: FlaskClient) -> None:
    assert client.get("/query?sno=9223372036854775807").status_code == 404


def test_unknown_path_is_404_json(client: FlaskClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404


def test_wrong_method_is_405_json_with_allow(client: FlaskClient) -> None:
    response = client.put("/query?sno=1")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == 405
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_500_json_without_a_trace(
    client: FlaskClient, container: Container
) -> None:
    class Broken:
        def get(self, sno: int) -> None:
            raise RuntimeError("secret detail")

    container.tracking.reset()
    container.shipments.override(providers.Object(Broken()))
    response = client.get("/query?sno=1")
    assert response.status_code == 500
    assert response.get_json()["error"] == {
        "code": 500,
        "message": "internal error; it has been logged",
    }
    assert b"secret" not in response.data


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ok"
