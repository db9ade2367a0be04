"""POST /shipments/<sno>/events through the Flask app with every port in memory."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.status import TERMINAL, Status, allowed_next
from tests.unit.conftest import NOW
from tests.unit.scans import (
    assert_error,
    key_with,
    post_event,
    shipment_with,
    statuses,
)

C, PR, IT, OFD, DA, D, RTS, EX = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERY_ATTEMPTED,
    Status.DELIVERED,
    Status.RETURNED_TO_SENDER,
    Status.EXCEPTION,
)
# Every stage a parcel can be in, and the same stages paused by an Exception.
STAGES = [[C], [C, PR], [C, PR, IT], [C, PR, IT, OFD], [C, PR, IT, OFD, DA]]
HISTORIES = [*STAGES, *([*stage, EX] for stage in STAGES), [C, PR, IT, OFD, D], [C, PR, IT, RTS]]
ALLOWED = [(history, status) for history in HISTORIES for status in sorted(allowed_next(history))]
REFUSED = [
    (history, status)
    for history in HISTORIES
    for status in sorted(set(Status) - allowed_next(history))
]


@pytest.fixture
def key(container: Container) -> str:
    return key_with(container, Scope.EVENTS_WRITE)


def _name(history: list[Status]) -> str:
    return ">".join(status.name for status in history)


def test_the_samples_cover_the_lifecycle() -> None:
    assert {status for _, status in ALLOWED} == set(Status) - {C}
    assert len(REFUSED) > 40
    assert all(not allowed_next(history) for history in HISTORIES if history[-1] in TERMINAL)


@pytest.mark.parametrize(
    ("history", "status"), ALLOWED, ids=[f"{_name(h)}+{s.name}" for h, s in ALLOWED]
)
def test_every_allowed_transition_is_recorded(
    client: FlaskClient, container: Container, key: str, history: list[Status], status: Status
) -> None:
    sno = shipment_with(container, history)

    response = post_event(client, sno, {"status": status, "location_id": 5}, key)

    assert response.status_code == 201, response.data
    assert statuses(container, sno) == [*history, status]
    body = response.get_json()
    assert body["sno"] == str(sno)
    assert body["tracking_status"] == status
    assert body["current_location"]["location_id"] == 5
    assert [detail["status"] for detail in body["details"]] == [*history, status]
    assert response.headers["Location"] == f"/query?sno={sno}"


@pytest.mark.parametrize(
    ("history", "status"), REFUSED, ids=[f"{_name(h)}+{s.name}" for h, s in REFUSED]
)
def test_a_forbidden_transition_is_409_and_writes_nothing(
    client: FlaskClient, container: Container, key: str, history: list[Status], status: Status
) -> None:
    sno = shipment_with(container, history)
    before = container.shipments().get(sno)
    shown = client.get(f"/query?sno={sno}").data

    response = post_event(client, sno, {"status": status, "location_id": 5}, key)

    error = assert_error(response, 409)["error"]
    assert error["current_status"] == history[-1]
    assert error["allowed_next"] == sorted(allowed_next(history))
    assert container.shipments().get(sno) == before
    assert client.get(f"/query?sno={sno}").data == shown


def test_a_courier_drives_a_parcel_from_created_to_delivered(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    route = [
        (PR, 2),
        (IT, 7),
        (IT, 13),
        (EX, 13),
        (IT, 13),
        (OFD, 17),
        (DA, 17),
        (OFD, 17),
        (D, 17),
    ]
    for status, location in route:
        container.clock().advance(timedelta(minutes=10))
        response = post_event(client, sno, {"status": status, "location_id": location}, key)
        assert response.status_code == 201, response.data
        assert client.get(f"/query?sno={sno}").get_json()["tracking_status"] == status
    assert statuses(container, sno) == [C, *(status for status, _ in route)]
    body = client.get(f"/query?sno={sno}").get_json()
    assert body["current_location"]["title"] == "澎湖物流中心"
    assert len(body["details"]) == len(route) + 1


def test_occurred_at_with_an_offset_is_kept_and_shown_local(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    body = {
        "status": "Package Received",
        "location_id": 2,
        "occurred_at": "2026-11-25T11:30:00+08:00",
    }

    response = post_event(client, sno, {**body, "note": "收件"}, key)

    assert response.status_code == 201, response.data
    shipment = container.shipments().get(sno)
    assert shipment is not None
    assert shipment.events[-1].occurred_at == NOW - timedelta(minutes=30)
    assert shipment.events[-1].note == "收件"
    assert response.get_json()["details"][-1]["timestamp"] == "2026-11-25T11:30:00+08:00"


def test_without_occurred_at_the_event_happens_now(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    assert (
        post_event(client, sno, {"status": "Package Received", "location_id": 2}, key).status_code
        == 201
    )
    shipment = container.shipments().get(sno)
    assert shipment is not None
    assert shipment.events[-1].occurred_at == NOW


def test_an_event_dated_before_the_last_one_is_409(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR])
    last = statuses(container, sno)
    early = (NOW - timedelta(days=1)).isoformat()

    response = post_event(
        client, sno, {"status": "In Transit", "location_id": 3, "occurred_at": early}, key
    )

    error = assert_error(response, 409)["error"]
    assert "precedes the last event" in error["message"]
    assert error["current_status"] == "Package Received"
    assert statuses(container, sno) == last


def test_an_event_far_in_the_future_is_400(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    later = (NOW + timedelta(hours=1)).isoformat()
    response = post_event(
        client, sno, {"status": "Package Received", "location_id": 2, "occurred_at": later}, key
    )
    assert "future" in assert_error(response, 400)["error"]["message"]
    assert statuses(container, sno) == [C]


def test_an_unknown_sno_is_404(client: FlaskClient, key: str) -> None:
    response = post_event(client, 999_999, {"status": "Package Received", "location_id": 2}, key)
    assert assert_error(response, 404)["error"]["message"] == "no shipment with sno 999999"


def test_an_unknown_location_is_422_and_writes_nothing(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    response = post_event(client, sno, {"status": "Package Received", "location_id": 99}, key)
    assert "99" in assert_error(response, 422)["error"]["message"]
    assert statuses(container, sno) == [C]


@pytest.mark.parametrize("sno", ["abc", "0", "1.5", "-1", "99999999999999999999", "%EF%BC%91"])
def test_a_malformed_sno_is_400(client: FlaskClient, key: str, sno: str) -> None:
    response = post_event(client, sno, {"status": "Package Received", "location_id": 2}, key)
    assert "sno" in assert_error(response, 400)["error"]["message"]


BAD_BODIES: list[tuple[str, bytes | object, str]] = [
    ("not json", b"{status: In Transit}", "JSON object"),
    ("empty", b"", "JSON object"),
    ("not utf-8", b'{"status": "\xff"}', "JSON object"),
    ("a list", [], "JSON object"),
    ("a string", "In Transit", "JSON object"),
    ("no status", {"location_id": 2}, "status"),
    ("unknown status", {"status": "Lost", "location_id": 2}, "status"),
    ("status in lower case", {"status": "package received", "location_id": 2}, "status"),
    ("null status", {"status": None, "location_id": 2}, "status"),
    ("no location", {"status": "Package Received"}, "location_id"),
    ("location as text", {"status": "Package Received", "location_id": "2"}, "location_id"),
    ("location as bool", {"status": "Package Received", "location_id": True}, "location_id"),
    ("location as float", {"status": "Package Received", "location_id": 2.0}, "location_id"),
    ("location zero", {"status": "Package Received", "location_id": 0}, "location_id"),
    ("location huge", {"status": "Package Received", "location_id": 2**70}, "location_id"),
    (
        "naive occurred_at",
        {"status": "Package Received", "location_id": 2, "occurred_at": "2026-11-25T08:00:00"},
        "occurred_at",
    ),
    (
        "garbage occurred_at",
        {"status": "Package Received", "location_id": 2, "occurred_at": "yesterday"},
        "occurred_at",
    ),
    (
        "occurred_at out of range in UTC",
        {"status": "Package Received", "location_id": 2, "occurred_at": "0001-01-01T00:00+01:00"},
        "occurred_at",
    ),
    (
        "occurred_at without a time",
        {"status": "Package Received", "location_id": 2, "occurred_at": "2026-11-25"},
        "occurred_at",
    ),
    (
        "numeric occurred_at",
        {"status": "Package Received", "location_id": 2, "occurred_at": 1764000000},
        "occurred_at",
    ),
    ("long note", {"status": "Package Received", "location_id": 2, "note": "x" * 501}, "note"),
    ("note as number", {"status": "Package Received", "location_id": 2, "note": 5}, "note"),
    ("unknown field", {"status": "Package Received", "location_id": 2, "sno": 1}, "unknown"),
    (
        "repeated field",
        b'{"status": "Package Received", "location_id": 2, "location_id": 3}',
        "twice",
    ),
]


@pytest.mark.parametrize(
    ("body", "mentions"),
    [(body, mentions) for _, body, mentions in BAD_BODIES],
    ids=[name for name, _, _ in BAD_BODIES],
)
def test_a_malformed_body_is_400_and_writes_nothing(
    client: FlaskClient, container: Container, key: str, body: bytes | object, mentions: str
) -> None:
    sno = shipment_with(container, [C])
    response = post_event(client, sno, body, key)
    assert mentions in assert_error(response, 400)["error"]["message"]
    assert statuses(container, sno) == [C]


def test_a_huge_body_is_413_json(client: FlaskClient, container: Container, key: str) -> None:
    sno = shipment_with(container, [C])
    body = {"status": "Package Received", "location_id": 2, "note": "x" * 20_000}
    assert_error(post_event(client, sno, body, key), 413)
    assert statuses(container, sno) == [C]


@pytest.mark.parametrize("body", [b"[" * 5000, b'{"a":' * 3000])
def test_a_body_nested_too_deep_to_parse_is_400_json(
    client: FlaskClient, container: Container, key: str, body: bytes
) -> None:
    sno = shipment_with(container, [C])
    assert (
        "JSON object" in assert_error(post_event(client, sno, body, key), 400)["error"]["message"]
    )
    assert statuses(container, sno) == [C]


def test_get_on_the_events_route_is_405_json(client: FlaskClient, container: Container) -> None:
    sno = shipment_with(container, [C])
    response = client.get(f"/shipments/{sno}/events")
    assert_error(response, 405)
    assert "POST" in response.headers["Allow"]


def test_options_needs_no_key(client: FlaskClient, container: Container) -> None:
    response = client.options("/shipments/1/events")
    assert response.status_code == 200
    assert "POST" in response.headers["Allow"]
