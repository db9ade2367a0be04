"""Conditional GET of /query: a strong ETag kept with the cached body, 304s, who may keep a copy."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.entrypoints.http.conditional import not_modified
from logistic.services.tracking import View, tracking_key
from logistic.settings import Settings
from tests.contract import CheckedClient
from tests.unit.conftest import NOW
from tests.unit.flask_only import behind_request_meter
from tests.unit.scans import bearer, key_with, post_event, shipment_with

HISTORY = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]
TAG = '"0123456789abcdef0123456789abcdef"'


def _container(**env: str) -> Container:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})
    return memory_container(settings=settings, now=NOW)


def _strong_tag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def test_a_200_carries_the_tag_of_its_exact_bytes_kept_in_front_of_the_cached_body(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)

    first = client.get(f"/query?sno={sno}")  # a miss
    again = client.get(f"/query?sno={sno}")  # a hit

    assert first.headers["ETag"] == again.headers["ETag"] == _strong_tag(first.data)
    cached = container.cache().get(tracking_key(sno))
    assert cached == first.headers["ETag"].encode() + first.data


@pytest.mark.parametrize("scopes", [(), (Scope.EVENTS_WRITE,)], ids=["anonymous", "no pii:read"])
def test_the_masked_view_may_be_kept_by_any_cache_for_a_minute(
    client: FlaskClient, container: Container, scopes: tuple[Scope, ...]
) -> None:
    sno = shipment_with(container, HISTORY)
    headers = bearer(key_with(container, *scopes)) if scopes else {}

    response = client.get(f"/query?sno={sno}", headers=headers)

    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Vary"] == "Authorization"


def test_the_full_view_is_kept_nowhere_and_has_a_tag_of_its_own(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    masked = client.get(f"/query?sno={sno}")

    full = client.get(f"/query?sno={sno}", headers=bearer(key_with(container, Scope.PII_READ)))

    assert full.headers["Cache-Control"] == "private, no-store"
    assert full.headers["ETag"] == _strong_tag(full.data) != masked.headers["ETag"]


def test_the_same_tag_back_gets_a_304_without_a_body_still_counted() -> None:
    container = _container(LOGISTIC_RATE_LIMIT="10/minute")
    client = create_app(container).test_client()
    sno = shipment_with(container, HISTORY)
    first = client.get(f"/query?sno={sno}")

    again = client.get(f"/query?sno={sno}", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.data == b""
    assert "Content-Type" not in again.headers
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == "public, max-age=60"
    assert int(again.headers["X-RateLimit-Remaining"]) == 8


def test_a_304_past_the_quota_is_a_429() -> None:
    container = _container(LOGISTIC_RATE_LIMIT="2/minute")
    client = create_app(container).test_client()
    sno = shipment_with(container, HISTORY)
    tag = client.get(f"/query?sno={sno}").headers["ETag"]
    assert client.get(f"/query?sno={sno}", headers={"If-None-Match": tag}).status_code == 304

    refused = client.get(f"/query?sno={sno}", headers={"If-None-Match": tag})

    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


def test_a_recorded_event_changes_the_tag_and_the_old_one_gets_the_new_body(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    before = client.get(f"/query?sno={sno}")
    key = key_with(container, Scope.EVENTS_WRITE)
    later = (NOW - timedelta(minutes=1)).isoformat()
    hop = {"status": "In Transit", "location_id": 13, "occurred_at": later}
    assert post_event(client, sno, hop, key).status_code == 201

    after = client.get(f"/query?sno={sno}", headers={"If-None-Match": before.headers["ETag"]})

    assert after.status_code == 200
    assert after.headers["ETag"] == _strong_tag(after.data) != before.headers["ETag"]


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (TAG, True),
        (f"W/{TAG}", True),
        (f'"other", {TAG}', True),
        (f'"other",{TAG} , "more"', True),
        ("*", True),
        ('"other"', False),
        (TAG[:-1], False),
        ("", False),
        (None, False),
    ],
)
def test_if_none_match_is_compared_weakly_to_the_list_it_gives(
    header: str | None, matches: bool
) -> None:
    assert not_modified(header, TAG.encode()) is matches


def test_both_paths_answer_the_same_304() -> None:
    container = _container(LOGISTIC_RATE_LIMIT="100/minute")
    app = create_app(container)
    served = CheckedClient(app)
    flask_only = CheckedClient(behind_request_meter(app))
    sno = shipment_with(container, HISTORY)
    tag = served.get(f"/query?sno={sno}").headers["ETag"]
    headers = {"If-None-Match": tag}

    fast, slow = (
        served.get(f"/query?sno={sno}", headers=headers),
        flask_only.get(f"/query?sno={sno}", headers=headers),
    )

    assert fast.status_code == slow.status_code == 304
    assert [name for name, _ in fast.headers] == [name for name, _ in slow.headers]
    assert fast.headers["ETag"] == slow.headers["ETag"] == tag


def test_a_bare_body_of_an_older_release_is_never_read(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    # What a release before entity tags cached, under its own key.
    container.cache().set(f"query:{View.MASKED}:{sno}", b'{"sno":"stale"}', timedelta(hours=1))

    response = client.get(f"/query?sno={sno}")

    assert response.get_json()["sno"] == str(sno)
    assert response.headers["ETag"] == _strong_tag(response.data)
