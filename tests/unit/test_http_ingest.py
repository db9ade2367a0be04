"""POST /events through the Flask app with every port in memory."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.status import Status
from logistic.services.tracking import keys_of
from tests.unit.conftest import NOW
from tests.unit.scans import assert_error, bearer, key_with, shipment_with, statuses

TAIPEI = timezone(timedelta(hours=8))
C, PR, IT, OFD, D, EX = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
    Status.EXCEPTION,
)


@pytest.fixture
def key(container: Container) -> str:
    return key_with(container, Scope.EVENTS_WRITE)


def at(minutes: int) -> str:
    """A moment `minutes` after the tests' now minus an hour (after every stored event)."""
    return (NOW - timedelta(minutes=60 - minutes)).isoformat()


def item(sno: int | str, status: Status, minutes: int, **extra: Any) -> dict[str, Any]:
    return {
        "sno": sno,
        "status": status.value,
        "location_id": 3,
        "occurred_at": at(minutes),
        **extra,
    }


def post(client: FlaskClient, body: Any, key: str | None) -> TestResponse:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        "/events", data=data, headers=bearer(key) if key else {}, content_type="application/json"
    )


def results(response: TestResponse) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.data
    found: list[dict[str, Any]] = response.get_json()["data"]["results"]
    return found


def test_items_of_many_shipments_are_applied_in_time_order(
    client: FlaskClient, container: Container, key: str
) -> None:
    first = shipment_with(container, [C, PR])
    second = shipment_with(container, [C])
    body = {
        "events": [
            item(first, OFD, 20),  # sent before the In Transit it follows
            item(second, PR, 5),
            item(first, IT, 10),
            item(first, D, 30, note="front door"),
        ]
    }

    response = post(client, body, key)

    assert results(response) == [
        {"sno": str(first), "code": 201, "tracking_status": "Out for Delivery"},
        {"sno": str(second), "code": 201, "tracking_status": "Package Received"},
        {"sno": str(first), "code": 201, "tracking_status": "In Transit"},
        {"sno": str(first), "code": 201, "tracking_status": "Delivered"},
    ]
    assert response.get_json()["data"]["summary"] == {"applied": 4, "replayed": 0, "refused": 0}
    assert statuses(container, first) == [C, PR, IT, OFD, D]
    assert statuses(container, second) == [C, PR]
    shipment = container.shipments().get(first)
    assert shipment is not None
    assert shipment.events[-1].note == "front door"


def test_a_refusal_stops_the_later_items_of_its_shipment_only(
    client: FlaskClient, container: Container, key: str
) -> None:
    stopped = shipment_with(container, [C, PR])
    other = shipment_with(container, [C])
    body = {
        "events": [
            item(stopped, IT, 1),
            item(stopped, D, 2),  # refused: In Transit cannot be followed by Delivered
            item(stopped, OFD, 3),  # allowed on its own, but sent as following the refused one
            item(other, PR, 4),
            item(10**9, PR, 5),
        ]
    }

    found = results(post(client, body, key))

    assert [entry["code"] for entry in found] == [201, 409, 409, 201, 404]
    assert found[1]["error"]["current_status"] == "In Transit"
    assert "Out for Delivery" in found[1]["error"]["allowed_next"]
    assert "item 1" in found[2]["error"]["message"]
    assert found[2]["error"]["current_status"] == "In Transit"
    assert statuses(container, stopped) == [C, PR, IT]
    assert statuses(container, other) == [C, PR]


def test_items_dated_before_a_refused_one_are_applied(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    body = {"events": [item(sno, D, 9), item(sno, PR, 1), item(sno, EX, 2, location_id=999)]}

    found = results(post(client, body, key))

    assert [entry["code"] for entry in found] == [409, 201, 422]
    assert "item 2" in found[0]["error"]["message"]
    assert statuses(container, sno) == [C, PR]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"status": "In Transit", "location_id": 3, "occurred_at": at(1)}, "sno is required"),
        ({"sno": "x1", "status": "In Transit", "location_id": 3, "occurred_at": at(1)}, "sno"),
        ({"sno": 1, "status": "Lost", "location_id": 3, "occurred_at": at(1)}, "status"),
        ({"sno": 1, "status": "In Transit", "location_id": 0, "occurred_at": at(1)}, "location_id"),
        ({"sno": 1, "status": "In Transit", "location_id": 3}, "occurred_at is required"),
        ({"sno": 1, "status": "In Transit", "location_id": 3, "occurred_at": "today"}, "ISO"),
        ({"sno": 1, "status": "In Transit", "location_id": 3, "occurred_at": at(1), "x": 1}, "x"),
        ({"sno": 1, "status": "Created", "location_id": 3, "occurred_at": at(1),
          "idempotency_key": "has space"}, "idempotency_key"),
        (["sno", 1], "JSON object"),
    ],
)  # fmt: skip
def test_an_item_that_cannot_be_read_is_a_400_of_its_own(
    client: FlaskClient, container: Container, key: str, bad: Any, message: str
) -> None:
    sno = shipment_with(container, [C])

    found = results(post(client, {"events": [bad, item(sno, PR, 2)]}, key))

    assert found[0]["code"] == 400
    assert found[0]["error"]["code"] == 400
    assert message in found[0]["error"]["message"]
    assert found[1]["code"] == 201
    assert statuses(container, sno) == [C, PR]


def test_a_future_item_is_a_400(client: FlaskClient, container: Container, key: str) -> None:
    sno = shipment_with(container, [C])
    future = (NOW + timedelta(minutes=6)).isoformat()
    body = {"events": [{**item(sno, PR, 0), "occurred_at": future}]}

    assert results(post(client, body, key))[0]["code"] == 400
    assert statuses(container, sno) == [C]


def test_a_retry_with_item_keys_writes_nothing_twice(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    body = {
        "events": [
            item(sno, PR, 1, idempotency_key="hub-1"),
            item(sno, IT, 2, idempotency_key="hub-2"),
        ]
    }
    assert [entry["code"] for entry in results(post(client, body, key))] == [201, 201]

    again = post(client, body, key)

    assert results(again) == [
        {"sno": str(sno), "code": 201, "tracking_status": "Package Received", "replayed": True},
        {"sno": str(sno), "code": 201, "tracking_status": "In Transit", "replayed": True},
    ]
    assert again.get_json()["data"]["summary"] == {"applied": 0, "replayed": 2, "refused": 0}
    assert statuses(container, sno) == [C, PR, IT]


def test_an_item_key_sent_with_another_event_is_a_422(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    results(post(client, {"events": [item(sno, PR, 1, idempotency_key="k")]}, key))

    found = results(post(client, {"events": [item(sno, IT, 2, idempotency_key="k")]}, key))

    assert found[0]["code"] == 422
    assert statuses(container, sno) == [C, PR]


def test_an_item_key_twice_in_one_call_is_a_400(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    body = {
        "events": [item(sno, PR, 1, idempotency_key="k"), item(sno, IT, 2, idempotency_key="k")]
    }

    assert [entry["code"] for entry in results(post(client, body, key))] == [201, 400]


def test_the_cache_of_every_shipment_touched_goes_in_one_delete(
    client: FlaskClient, container: Container, key: str
) -> None:
    snos = [shipment_with(container, [C]) for _ in range(3)]
    for sno in snos:
        client.get(f"/query?sno={sno}")
    cache = container.cache()
    assert all(cache.get(keys_of(sno)[0]) is not None for sno in snos)
    deletes: list[tuple[str, ...]] = []
    original = cache.delete

    def counted(*keys: str) -> None:
        deletes.append(keys)
        original(*keys)

    cache.delete = counted  # type: ignore[method-assign]

    results(post(client, {"events": [item(sno, PR, 1) for sno in snos]}, key))

    assert len(deletes) == 1
    assert all(cache.get(keys_of(sno)[0]) is None for sno in snos)
    assert json.loads(client.get(f"/query?sno={snos[0]}").data)["tracking_status"] == PR.value


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"events": []},
        {"events": {}},
        {"events": [], "more": 1},
        [],
        b"{not json",
    ],
)
def test_a_malformed_call_is_one_400(client: FlaskClient, key: str, body: Any) -> None:
    assert_error(post(client, body, key), 400)


def test_more_than_a_thousand_items_is_a_400(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    body = {"events": [item(sno, PR, 1)] * 1001}

    assert_error(post(client, body, key), 400)
    assert statuses(container, sno) == [C]


def test_a_thousand_items_are_taken(client: FlaskClient, container: Container, key: str) -> None:
    sno = shipment_with(container, [C])
    body = {"events": [item(sno, PR, 1), *(item(sno, IT, 2) for _ in range(999))]}

    found = results(post(client, body, key))

    assert len(found) == 1000
    assert all(entry["code"] == 201 for entry in found)
    assert len(statuses(container, sno)) == 1001


def test_a_body_over_4_mib_is_a_413(client: FlaskClient, key: str) -> None:
    assert_error(post(client, b"[" + b" " * (4 * 1024 * 1024) + b"]", key), 413)


def test_the_route_needs_the_events_write_scope(client: FlaskClient, container: Container) -> None:
    sno = shipment_with(container, [C])
    body = {"events": [item(sno, PR, 1)]}

    assert_error(post(client, body, None), 401)
    assert_error(post(client, body, key_with(container, Scope.PII_READ)), 403)
    assert statuses(container, sno) == [C]


def test_times_compare_across_offsets(client: FlaskClient, container: Container, key: str) -> None:
    sno = shipment_with(container, [C])
    later_in_taipei = datetime.fromisoformat(at(2)).astimezone(TAIPEI).isoformat()
    body = {"events": [{**item(sno, IT, 0), "occurred_at": later_in_taipei}, item(sno, PR, 1)]}

    assert [entry["code"] for entry in results(post(client, body, key))] == [201, 201]
    assert statuses(container, sno) == [C, PR, IT]
