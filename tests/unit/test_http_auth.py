"""API keys: 401 without or with a wrong key, 403 without the scope, on every protected route."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.container import Container, memory_container
from logistic.domain.access import Scope, key_digest
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.scans import assert_error, bearer, key_with, post_event, shipment_with, statuses

Call = Callable[[FlaskClient, Container, dict[str, str]], TestResponse]


def _record(client: FlaskClient, container: Container, headers: dict[str, str]) -> TestResponse:
    sno = shipment_with(container, [Status.CREATED])
    return post_event(
        client, sno, {"status": "Package Received", "location_id": 2}, headers=headers
    )


def _fake(client: FlaskClient, container: Container, headers: dict[str, str]) -> TestResponse:
    return client.get("/fake?num=1", headers=headers)


def _reports(client: FlaskClient, container: Container, headers: dict[str, str]) -> TestResponse:
    return client.get("/reports?date=2026-11-25", headers=headers)


# route, the scope it needs, the status it answers when allowed
PROTECTED: list[tuple[str, Call, Scope, int]] = [
    ("record an event", _record, Scope.EVENTS_WRITE, 201),
    ("fake orders", _fake, Scope.FAKE_WRITE, 200),
    ("list reports", _reports, Scope.REPORTS_READ, 200),
]
IDS = [name for name, _, _, _ in PROTECTED]


@pytest.fixture
def configured(container: Container) -> Container:
    """Keys exist: one for each scope."""
    key_with(container, Scope.PII_READ)
    return container


@pytest.mark.parametrize(("name", "call", "scope", "ok"), PROTECTED, ids=IDS)
def test_without_a_key_is_401(
    client: FlaskClient, configured: Container, name: str, call: Call, scope: Scope, ok: int
) -> None:
    response = call(client, configured, {})
    assert scope in assert_error(response, 401)["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer lgk_not-a-key", "Bearer ", "Basic dXNlcjpwYXNz", "lgk_no_scheme", "Bearer a b"],
)
@pytest.mark.parametrize(("name", "call", "scope", "ok"), PROTECTED, ids=IDS)
def test_a_wrong_key_is_401(
    client: FlaskClient,
    configured: Container,
    name: str,
    call: Call,
    scope: Scope,
    ok: int,
    header: str,
) -> None:
    assert_error(call(client, configured, {"Authorization": header}), 401)


@pytest.mark.parametrize(("name", "call", "scope", "ok"), PROTECTED, ids=IDS)
def test_a_key_without_the_scope_is_403(
    client: FlaskClient, configured: Container, name: str, call: Call, scope: Scope, ok: int
) -> None:
    others = [other for other in Scope if other is not scope]
    key = key_with(configured, *others)
    response = call(client, configured, bearer(key))
    assert scope in assert_error(response, 403)["error"]["message"]


@pytest.mark.parametrize(("name", "call", "scope", "ok"), PROTECTED, ids=IDS)
def test_a_key_with_the_scope_is_let_in(
    client: FlaskClient, configured: Container, name: str, call: Call, scope: Scope, ok: int
) -> None:
    key = key_with(configured, scope)
    assert call(client, configured, bearer(key)).status_code == ok


def test_a_wrong_key_on_the_public_lookup_is_401(
    client: FlaskClient, configured: Container
) -> None:
    sno = shipment_with(configured, [Status.CREATED])
    assert client.get(f"/query?sno={sno}").status_code == 200
    assert_error(client.get(f"/query?sno={sno}", headers=bearer("lgk_wrong")), 401)


def test_recording_needs_a_key_even_when_none_is_configured(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, [Status.CREATED])
    response = post_event(client, sno, {"status": "Package Received", "location_id": 2})
    assert (
        "logistic keys create --scope events:write"
        in assert_error(response, 401)["error"]["message"]
    )
    assert statuses(container, sno) == [Status.CREATED]


def test_fake_and_reports_are_open_while_no_key_is_configured(client: FlaskClient) -> None:
    assert client.get("/fake?num=1").status_code == 200
    assert client.get("/reports?date=2026-11-25").status_code == 200


def test_fake_switched_off_is_404_whatever_the_key() -> None:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_FAKE_API": "off"})
    container = memory_container(settings=settings, now=NOW)
    key = key_with(container, Scope.FAKE_WRITE)
    client = create_app(container).test_client()
    assert_error(client.get("/fake", headers=bearer(key)), 404)


def test_only_the_digest_of_a_key_is_stored(container: Container) -> None:
    key = key_with(container, Scope.EVENTS_WRITE, Scope.PII_READ)
    (stored,) = container.api_keys().all()
    assert stored.digest == key_digest(key)
    assert key not in repr(stored)
    assert stored.scopes == {Scope.EVENTS_WRITE, Scope.PII_READ}
    assert key.startswith("lgk_")
    assert len(key) > 40


def test_a_key_lacking_pii_read_still_gets_the_masked_recipient(
    client: FlaskClient, container: Container
) -> None:
    key = key_with(container, Scope.EVENTS_WRITE)
    sno = shipment_with(container, [Status.CREATED])
    body = client.get(f"/query?sno={sno}", headers=bearer(key)).get_json()
    assert body["recipient"]["name"] == "李**"
