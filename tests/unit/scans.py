"""Helpers for the tests that record events through the HTTP API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.repositories import NewShipment

CONTACT = Contact("李小明", "0966123401", "澎湖縣馬公市中正路200號")
ORIGIN, DESTINATION = 2, 17


def shipment_with(container: Container, history: Sequence[Status]) -> int:
    """A stored shipment whose events are `history`, an hour apart, the last an hour ago."""
    now = container.clock().now()
    start = now - timedelta(hours=len(history) + 1)
    events = tuple(
        TrackingEvent(status, ORIGIN, start + timedelta(hours=step))
        for step, status in enumerate(history, start=1)
    )
    plan = PlannedShipment(ORIGIN, DESTINATION, start, events)
    new = NewShipment(CONTACT, plan, promised_by=now + timedelta(days=3))
    return container.shipments().add_many([new])[0].sno


def key_with(container: Container, *scopes: Scope) -> str:
    return container.access().create_key(scopes)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_event(
    client: FlaskClient,
    sno: int | str,
    body: Any,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    sent = {**(bearer(key) if key else {}), **(headers or {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/shipments/{sno}/events", data=data, headers=sent, content_type="application/json"
    )


def statuses(container: Container, sno: int) -> list[Status]:
    shipment = container.shipments().get(sno)
    assert shipment is not None
    return list(shipment.statuses)


def assert_error(response: TestResponse, code: int) -> dict[str, Any]:
    assert response.status_code == code, response.data
    assert response.content_type == "application/json; charset=utf-8"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == "error"
    assert body["data"] is None
    assert body["error"]["code"] == code
    return body
