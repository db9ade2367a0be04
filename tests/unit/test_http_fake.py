"""GET /fake through the Flask app with every port in memory."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from logistic.container import Container, memory_container
from logistic.domain.status import is_valid_history
from logistic.entrypoints.http import create_app
from logistic.settings import Settings


def test_default_is_ten_orders_in_the_original_shape(client: FlaskClient) -> None:
    response = client.get("/fake")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert len(data) == 10
    for order in data:
        assert set(order) == {"details", "sno", "tracking_status"}
        assert isinstance(order["sno"], int)
        assert order["details"][0]["tracking_status"] == "Created"
        for detail in order["details"]:
            assert set(detail) == {"location_id", "order_sno", "tracking_status"}
            assert detail["order_sno"] == order["sno"]
        assert order["tracking_status"] == order["details"][-1]


def test_histories_are_stored_and_valid(client: FlaskClient, container: Container) -> None:
    data = client.get("/fake?num=20").get_json()["data"]
    for order in data:
        shipment = container.shipments().get(order["sno"])
        assert shipment is not None
        assert is_valid_history(shipment.statuses)
        assert [d["tracking_status"] for d in order["details"]] == list(shipment.statuses)


def test_num_above_100_is_capped(client: FlaskClient) -> None:
    assert len(client.get("/fake?num=150").get_json()["data"]) == 100
    assert len(client.get("/fake?num=99999999999").get_json()["data"]) == 100


def test_calls_never_share_a_sno_nor_touch_existing_orders(
    client: FlaskClient, container: Container
) -> None:
    first = client.get("/fake?num=5").get_json()["data"]
    before = {o["sno"]: container.shipments().get(o["sno"]) for o in first}
    second = client.get("/fake?num=5").get_json()["data"]
    assert not {o["sno"] for o in first} & {o["sno"] for o in second}
    assert {sno: container.shipments().get(sno) for sno in before} == before


@pytest.mark.parametrize("num", ["0", "-1", "1.5", "abc", "", "%EF%BC%91", "9" * 10_000])
def test_bad_num_is_400_json(client: FlaskClient, num: str) -> None:
    response = client.get(f"/fake?num={num}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["status"] == "error"
    assert "num" in body["error"]["message"]


def test_fake_api_can_be_switched_off() -> None:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_FAKE_API": "off"})
    client = create_app(memory_container(settings=settings)).test_client()
    response = client.get("/fake")
    assert response.status_code == 404
    assert "switched off" in response.get_json()["error"]["message"]
