"""Recipients on /query: masked when anonymous, whole with pii:read or LOGISTIC_PII=full."""

from __future__ import annotations

from flask.testing import FlaskClient

from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.services.tracking import View, tracking_key
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.scans import bearer, key_with, post_event, shipment_with

MASKED = {"name": "李**", "phone": "0966****01", "address": "澎湖縣馬公市"}
FULL = {"name": "李小明", "phone": "0966123401", "address": "澎湖縣馬公市中正路200號"}


def _recipient(client: FlaskClient, sno: int, key: str | None = None) -> dict[str, str]:
    response = client.get(f"/query?sno={sno}", headers=bearer(key) if key else {})
    assert response.status_code == 200, response.data
    recipient: dict[str, str] = response.get_json()["recipient"]
    return {field: recipient[field] for field in ("name", "phone", "address")}


def test_an_anonymous_caller_sees_the_recipient_masked(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, [Status.CREATED])
    response = client.get(f"/query?sno={sno}")
    assert _recipient(client, sno) == MASKED
    assert set(response.get_json()["recipient"]) == {"address", "id", "name", "phone"}
    assert "李小明".encode() not in response.data
    assert b"0966123401" not in response.data
    assert "中正路".encode() not in response.data


def test_a_key_with_pii_read_sees_the_whole_recipient(
    client: FlaskClient, container: Container
) -> None:
    key = key_with(container, Scope.PII_READ)
    sno = shipment_with(container, [Status.CREATED])
    assert _recipient(client, sno, key) == FULL


def test_the_cache_never_mixes_the_two(client: FlaskClient, container: Container) -> None:
    key = key_with(container, Scope.PII_READ)
    sno = shipment_with(container, [Status.CREATED])

    # Each order fills the cache first with one view, then reads the other.
    assert _recipient(client, sno) == MASKED
    assert _recipient(client, sno, key) == FULL
    assert _recipient(client, sno) == MASKED
    other = shipment_with(container, [Status.CREATED])
    assert _recipient(client, other, key) == FULL
    assert _recipient(client, other) == MASKED

    cache = container.cache()
    assert "李小明".encode() not in (cache.get(tracking_key(sno, View.MASKED)) or b"?")
    assert "李小明".encode() in (cache.get(tracking_key(sno, View.FULL)) or b"")


def test_after_an_event_both_views_are_fresh_and_apart(
    client: FlaskClient, container: Container
) -> None:
    reader = key_with(container, Scope.PII_READ)
    writer = key_with(container, Scope.EVENTS_WRITE)
    sno = shipment_with(container, [Status.CREATED])
    _recipient(client, sno)
    _recipient(client, sno, reader)

    written = post_event(client, sno, {"status": "Package Received", "location_id": 2}, writer)

    assert written.get_json()["recipient"]["name"] == "李**"
    for key, shown in ((None, MASKED), (reader, FULL)):
        body = client.get(f"/query?sno={sno}", headers=bearer(key) if key else {}).get_json()
        assert body["tracking_status"] == "Package Received"
        assert {field: body["recipient"][field] for field in shown} == shown


def test_a_writer_with_pii_read_gets_the_whole_recipient_back(
    client: FlaskClient, container: Container
) -> None:
    key = key_with(container, Scope.EVENTS_WRITE, Scope.PII_READ)
    sno = shipment_with(container, [Status.CREATED])
    written = post_event(client, sno, {"status": "Package Received", "location_id": 2}, key)
    assert written.get_json()["recipient"]["name"] == "李小明"


def test_pii_full_turns_masking_off() -> None:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_PII": "full"})
    container = memory_container(settings=settings, now=NOW)
    client = create_app(container).test_client()
    sno = shipment_with(container, [Status.CREATED])
    assert _recipient(client, sno) == FULL
