"""/webhooks through the Flask app with every port in memory; the outbox rows the writes make."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient

from logistic.adapters.memory_webhooks import MemoryResolver
from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.status import Status
from tests.unit.conftest import NOW
from tests.unit.scans import CONTACT, assert_error, bearer, key_with, post_event, shipment_with

PUBLIC = "hooks.example.com"
URL = f"https://{PUBLIC}/in"


@pytest.fixture
def container(container: Container) -> Container:
    names = {PUBLIC: ["93.184.216.34"], "inside.example.com": ["93.184.216.34", "10.0.0.5"]}
    container.host_resolver.override(providers.Object(MemoryResolver(names)))
    return container


@pytest.fixture
def key(container: Container) -> str:
    return key_with(container, Scope.WEBHOOKS_WRITE, Scope.EVENTS_WRITE, Scope.FAKE_WRITE)


def _send(client: FlaskClient, method: str, path: str, key: str | None, body: Any = None) -> Any:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return client.open(
        path,
        method=method,
        data=data,
        headers=bearer(key) if key else {},
        content_type="application/json" if data is not None else None,
    )


def _subscribe(client: FlaskClient, key: str, **fields: Any) -> dict[str, Any]:
    answer = _send(client, "POST", "/webhooks", key, {"url": URL, **fields})
    assert answer.status_code == 201, answer.data
    made: dict[str, Any] = answer.get_json()["data"]
    return made


def _messages(client: FlaskClient, key: str, webhook_id: str, query: str = "") -> list[Any]:
    answer = _send(client, "GET", f"/webhooks/{webhook_id}/messages{query}", key)
    assert answer.status_code == 200, answer.data
    found: list[Any] = answer.get_json()["data"]["messages"]
    return found


def test_a_subscription_shows_its_secret_once(client: FlaskClient, key: str) -> None:
    made = _subscribe(client, key, statuses=["Delivered"], description="shop")

    assert made["secret"].startswith("whsec_")
    assert made["url"] == URL
    assert made["statuses"] == ["Delivered"]
    assert made["enabled"]
    one = _send(client, "GET", f"/webhooks/{made['id']}", key).get_json()["data"]
    listed = _send(client, "GET", "/webhooks", key).get_json()["data"]["webhooks"]
    assert "secret" not in one
    assert listed == [one]


def test_every_route_needs_the_scope(client: FlaskClient, container: Container) -> None:
    other = key_with(container, Scope.EVENTS_WRITE, Scope.PII_READ)
    for method, path in [
        ("GET", "/webhooks"),
        ("POST", "/webhooks"),
        ("GET", "/webhooks/ep_1"),
        ("PATCH", "/webhooks/ep_1"),
        ("DELETE", "/webhooks/ep_1"),
        ("POST", "/webhooks/ep_1/rotate-secret"),
        ("POST", "/webhooks/ep_1/test"),
        ("GET", "/webhooks/ep_1/messages"),
        ("POST", "/webhooks/ep_1/messages/msg_1/retry"),
    ]:
        assert_error(_send(client, method, path, None), 401)
        assert_error(_send(client, method, path, "lgk_not-a-key"), 401)
        assert_error(_send(client, method, path, other), 403)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "JSON object"),
        ([URL], "JSON object"),
        ({}, "url is required"),
        ({"url": 7}, "url is required"),
        ({"url": URL, "secret": "x"}, "unknown fields"),
        ({"url": "http://hooks.example.com/in"}, "https://"),
        ({"url": "https://inside.example.com/in"}, "10.0.0.5"),
        ({"url": "https://127.0.0.1/in"}, "loopback"),
        ({"url": "https://169.254.169.254/latest/meta-data"}, "link-local"),
        ({"url": "https://[::1]:8443/in"}, "loopback"),
        ({"url": "https://nowhere.invalid/in"}, "does not resolve"),
        ({"url": URL, "statuses": ["Lost"]}, "statuses must be"),
        ({"url": URL, "statuses": "Delivered"}, "statuses must be"),
        ({"url": URL, "description": "x" * 256}, "description"),
    ],
)
def test_bad_subscriptions_are_refused(
    client: FlaskClient, key: str, body: Any, needle: str
) -> None:
    error = assert_error(_send(client, "POST", "/webhooks", key, body), 400)
    assert needle in error["error"]["message"]


def test_changes_and_their_bad_inputs(client: FlaskClient, key: str) -> None:
    made = _subscribe(client, key)
    path = f"/webhooks/{made['id']}"

    changed = _send(client, "PATCH", path, key, {"enabled": False, "statuses": ["Delivered"]})
    assert changed.status_code == 200
    assert changed.get_json()["data"]["enabled"] is False
    for body in ({"enabled": "no"}, {"url": "ftp://x"}, {"id": "x"}, {"url": None}, [1]):
        assert_error(_send(client, "PATCH", path, key, body), 400)
    assert_error(_send(client, "PATCH", "/webhooks/ep_unknown", key, {"enabled": True}), 404)
    assert_error(_send(client, "GET", f"{path}/messages?status=lost", key), 400)
    assert_error(_send(client, "POST", f"{path}/messages/msg_999/retry", key), 404)
    assert_error(_send(client, "POST", f"{path}/messages/nonsense/retry", key), 404)

    assert _send(client, "DELETE", path, key).status_code == 204
    assert_error(_send(client, "GET", path, key), 404)
    assert_error(_send(client, "DELETE", path, key), 404)


def test_a_rotation_gives_a_new_secret_and_keeps_the_old_a_day(
    client: FlaskClient, key: str, container: Container
) -> None:
    made = _subscribe(client, key)
    answer = _send(client, "POST", f"/webhooks/{made['id']}/rotate-secret", key)

    assert answer.status_code == 200
    rotated = answer.get_json()["data"]
    assert rotated["secret"] != made["secret"]
    assert rotated["previous_secret_until"] is not None
    stored = container.webhook_subscriptions().get(made["id"])
    assert stored is not None
    assert stored.signing_secrets(container.clock().now()) == (
        rotated["secret"],
        made["secret"],
    )


def test_a_recorded_event_writes_one_message_per_matching_subscription(
    client: FlaskClient, key: str, container: Container
) -> None:
    every = _subscribe(client, key)
    delivered_only = _subscribe(client, key, statuses=["Delivered"])
    sno = shipment_with(container, [Status.CREATED])

    answer = post_event(client, sno, {"status": "Package Received", "location_id": 2}, key)
    assert answer.status_code == 201

    (message,) = _messages(client, key, every["id"])
    assert message["type"] == "shipment.status_changed"
    assert message["status"] == "pending"
    assert message["id"].startswith("msg_")
    assert message["payload"]["data"] == answer.get_json()
    assert CONTACT.name not in json.dumps(message["payload"], ensure_ascii=False)
    assert _messages(client, key, delivered_only["id"]) == []


def test_a_key_with_pii_read_subscribes_to_the_full_recipient(
    client: FlaskClient, container: Container
) -> None:
    key = key_with(container, Scope.WEBHOOKS_WRITE, Scope.EVENTS_WRITE, Scope.PII_READ)
    made = _subscribe(client, key)
    sno = shipment_with(container, [Status.CREATED])
    post_event(client, sno, {"status": "Package Received", "location_id": 2}, key)

    (message,) = _messages(client, key, made["id"])
    assert message["payload"]["data"]["recipient"]["name"] == CONTACT.name


def test_a_refused_event_writes_no_message(
    client: FlaskClient, key: str, container: Container
) -> None:
    made = _subscribe(client, key)
    sno = shipment_with(container, [Status.CREATED])

    assert_error(post_event(client, sno, {"status": "Delivered", "location_id": 2}, key), 409)
    assert_error(post_event(client, sno, {"status": "In Transit", "location_id": 999}, key), 422)
    assert _messages(client, key, made["id"]) == []


def test_fake_orders_write_shipment_created(client: FlaskClient, key: str) -> None:
    made = _subscribe(client, key)
    answer = client.get("/fake?num=3", headers=bearer(key))
    assert answer.status_code == 200

    found = _messages(client, key, made["id"])
    assert [m["type"] for m in found] == ["shipment.created"] * 3
    snos = {m["payload"]["data"]["sno"] for m in found}
    assert snos == {str(order["sno"]) for order in answer.get_json()["data"]}


def test_a_test_message_and_a_replay(client: FlaskClient, key: str) -> None:
    made = _subscribe(client, key)
    sent = _send(client, "POST", f"/webhooks/{made['id']}/test", key)
    assert sent.status_code == 202

    (message,) = _messages(client, key, made["id"])
    assert message["type"] == "webhook.test"
    replay = _send(client, "POST", f"/webhooks/{made['id']}/messages/{message['id']}/retry", key)
    assert replay.status_code == 202
    assert replay.get_json()["data"]["id"] == message["id"]
    assert_error(_send(client, "POST", "/webhooks/ep_none/test", key), 404)


def test_a_batch_of_events_writes_one_message_per_event(
    client: FlaskClient, key: str, container: Container
) -> None:
    made = _subscribe(client, key)
    sno = shipment_with(container, [Status.CREATED])
    events = [
        {"sno": str(sno), "status": status, "location_id": 2, "occurred_at": at}
        for status, at in (
            ("Package Received", (NOW - timedelta(minutes=2)).isoformat()),
            ("In Transit", (NOW - timedelta(minutes=1)).isoformat()),
        )
    ]
    answer = _send(client, "POST", "/events", key, {"events": events})
    assert answer.status_code == 200, answer.data
    assert answer.get_json()["data"]["summary"]["applied"] == 2, answer.data

    found = _messages(client, key, made["id"])
    assert [m["payload"]["data"]["tracking_status"] for m in reversed(found)] == [
        "Package Received",
        "In Transit",
    ]
