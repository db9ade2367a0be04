"""Idempotency-Key on POST /shipments/<sno>/events: a retry gets the first answer."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from flask.testing import FlaskClient

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.errors import StorageUnavailable
from logistic.domain.status import Status
from logistic.ports.idempotency import Answer, WriteClaim
from logistic.services.idempotency import LEASE
from logistic.services.tracking import View, tracking_key
from tests.bodies import cached_body
from tests.unit.scans import assert_error, key_with, post_event, shipment_with, statuses

C, PR, IT = Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT
ONE_MORE_HOP = {"status": "In Transit", "location_id": 7}


@pytest.fixture
def key(container: Container) -> str:
    return key_with(container, Scope.EVENTS_WRITE)


def _retry(client: FlaskClient, sno: int, key: str, idempotency_key: str, body: object) -> tuple:
    headers = {"Idempotency-Key": idempotency_key}
    return tuple(post_event(client, sno, body, key, headers) for _ in range(2))


def test_a_retry_returns_the_first_answer_and_writes_one_event(
    client: FlaskClient, container: Container, key: str
) -> None:
    # In Transit may follow In Transit: without the key, the retry would add a second hop.
    sno = shipment_with(container, [C, PR, IT])

    first, retry = _retry(client, sno, key, "scan-0001", ONE_MORE_HOP)

    assert first.status_code == retry.status_code == 201
    assert retry.data == first.data
    assert "Idempotent-Replayed" not in first.headers
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_without_the_header_a_repeated_request_writes_twice(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    post_event(client, sno, ONE_MORE_HOP, key)
    post_event(client, sno, ONE_MORE_HOP, key)
    assert statuses(container, sno) == [C, PR, IT, IT, IT]


def test_the_first_answer_is_replayed_even_after_later_events(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    first = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "a"})
    post_event(client, sno, {"status": "Out for Delivery", "location_id": 17}, key)

    retry = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "a"})

    assert retry.data == first.data
    assert statuses(container, sno) == [C, PR, IT, IT, Status.OUT_FOR_DELIVERY]


def test_the_same_key_with_another_request_is_422(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "k"})

    other = post_event(
        client, sno, {"status": "In Transit", "location_id": 8}, key, {"Idempotency-Key": "k"}
    )

    assert "another request" in assert_error(other, 422)["error"]["message"]
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_a_failed_request_is_not_remembered(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C])
    headers = {"Idempotency-Key": "retry-me"}
    refused = post_event(
        client, sno, {"status": "Package Received", "location_id": 99}, key, headers
    )
    assert_error(refused, 422)
    again = post_event(client, sno, {"status": "Package Received", "location_id": 99}, key, headers)
    assert_error(again, 422)
    fixed = post_event(client, sno, {"status": "Package Received", "location_id": 2}, key, headers)
    assert fixed.status_code == 201
    assert statuses(container, sno) == [C, PR]


def test_keys_belong_to_their_caller(client: FlaskClient, container: Container, key: str) -> None:
    other_key = key_with(container, Scope.EVENTS_WRITE)
    sno = shipment_with(container, [C, PR, IT])
    first = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "shared"})

    other = post_event(client, sno, ONE_MORE_HOP, other_key, {"Idempotency-Key": "shared"})

    assert other.status_code == 201
    assert other.data != first.data
    assert "Idempotent-Replayed" not in other.headers
    assert statuses(container, sno) == [C, PR, IT, IT, IT]


def test_keys_are_kept_a_day_then_forgotten(
    client: FlaskClient, container: Container, key: str
) -> None:
    # With the keys go the claims stored with their events: else the same request
    # with the same key, a day later, would be taken for a retry and not recorded.
    sno = shipment_with(container, [C, PR, IT])
    post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "daily"})
    container.clock().advance(timedelta(hours=23, minutes=59))
    replayed = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "daily"})
    assert replayed.headers["Idempotent-Replayed"] == "true"

    container.clock().advance(timedelta(hours=1, minutes=2))
    after_a_day = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "daily"})

    assert after_a_day.status_code == 201
    assert "Idempotent-Replayed" not in after_a_day.headers
    assert statuses(container, sno) == [C, PR, IT, IT, IT]


@pytest.mark.parametrize("value", ["", " ", "x" * 256, "é", "a b"])
def test_a_malformed_idempotency_key_is_400(
    client: FlaskClient, container: Container, key: str, value: str
) -> None:
    sno = shipment_with(container, [C])
    response = post_event(
        client,
        sno,
        {"status": "Package Received", "location_id": 2},
        key,
        {"Idempotency-Key": value},
    )
    assert "Idempotency-Key" in assert_error(response, 400)["error"]["message"]
    assert statuses(container, sno) == [C]


def _fail_after_the_commit(
    client: FlaskClient,
    container: Container,
    key: str,
    sno: int,
    headers: dict[str, str],
    failing: tuple[object, str],
) -> None:
    """POST one more hop with `headers`: its event is committed, then the method named
    by `failing` fails, and so does the request (503)."""
    target, method = failing
    with patch.object(target, method, side_effect=StorageUnavailable("database gone")):
        failed = post_event(client, sno, ONE_MORE_HOP, key, headers)
    assert_error(failed, 503)
    assert statuses(container, sno) == [C, PR, IT, IT]


def _lose_the_answer(
    client: FlaskClient, container: Container, key: str, sno: int, headers: dict[str, str]
) -> None:
    """Keeping the answer fails (as when the process dies there): the key stays claimed
    without an answer until its lease passes."""
    answers = (container.idempotency_keys(), "complete")
    _fail_after_the_commit(client, container, key, sno, headers, answers)


def test_a_retry_after_the_answer_was_lost_appends_nothing_more(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    headers = {"Idempotency-Key": "lost-answer"}
    _lose_the_answer(client, container, key, sno, headers)
    assert_error(post_event(client, sno, ONE_MORE_HOP, key, headers), 409)

    container.clock().advance(LEASE + timedelta(seconds=1))
    retry = post_event(client, sno, ONE_MORE_HOP, key, headers)

    assert retry.status_code == 201
    assert statuses(container, sno) == [C, PR, IT, IT]
    shipment = container.shipments().get(sno)
    assert retry.data == container.tracking().render(shipment, View.MASKED)
    replayed = post_event(client, sno, ONE_MORE_HOP, key, headers)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.data == retry.data
    assert statuses(container, sno) == [C, PR, IT, IT]


def _fail_once_past_the_commit(
    client: FlaskClient, container: Container, key: str, sno: int, headers: dict[str, str]
) -> None:
    """The write-through fails: the request fails and its key is released (a retry may
    come at once)."""
    write_through = (container.tracking(), "refresh")
    _fail_after_the_commit(client, container, key, sno, headers, write_through)


def test_a_retry_after_a_failure_past_the_commit_appends_nothing_more(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    before = client.get(f"/query?sno={sno}").data  # cached, as the failed request left it
    headers = {"Idempotency-Key": "after-commit"}
    _fail_once_past_the_commit(client, container, key, sno, headers)
    assert cached_body(container.cache().get(tracking_key(sno, View.MASKED))) == before

    retry = post_event(client, sno, ONE_MORE_HOP, key, headers)

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert statuses(container, sno) == [C, PR, IT, IT]
    # The retry did the write-through the failed request could not.
    assert cached_body(container.cache().get(tracking_key(sno, View.MASKED))) == retry.data
    assert client.get(f"/query?sno={sno}").data == retry.data


def test_after_a_failure_past_the_commit_the_key_refuses_another_request(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    headers = {"Idempotency-Key": "bound"}
    _fail_once_past_the_commit(client, container, key, sno, headers)

    other = post_event(client, sno, {"status": "In Transit", "location_id": 8}, key, headers)

    assert "another request" in assert_error(other, 422)["error"]["message"]
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_each_key_of_a_caller_records_its_own_event(
    client: FlaskClient, container: Container, key: str
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    for name in ("first", "second", "third"):
        response = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": name})
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    assert statuses(container, sno) == [C, PR, IT, IT, IT, IT]


def test_a_retry_racing_the_request_it_retries_gets_its_event(
    client: FlaskClient, container: Container, key: str
) -> None:
    # The first request was slow, not dead: its lease passed, the retry took the key
    # over, and the first committed its event between the retry's look for it and
    # the retry's own append.
    sno = shipment_with(container, [C, PR, IT])
    headers = {"Idempotency-Key": "slow"}
    _lose_the_answer(client, container, key, sno, headers)
    container.clock().advance(LEASE + timedelta(seconds=1))
    shipments = container.shipments()
    stored = shipments.claim
    looks: list[str] = []

    def claim_committed_meanwhile(claim_key: str) -> object:
        looks.append(claim_key)
        return None if len(looks) == 1 else stored(claim_key)

    with patch.object(shipments, "claim", side_effect=claim_committed_meanwhile):
        retry = post_event(client, sno, ONE_MORE_HOP, key, headers)

    assert len(looks) == 2  # before its append, and after the append was refused
    assert retry.status_code == 201
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_claims_outlive_no_key_when_their_purge_fails(
    client: FlaskClient, container: Container, key: str
) -> None:
    # The keys are purged only after the claims: while the claims cannot be, the
    # keys stay too, and the same request with the same key is still a replay.
    sno = shipment_with(container, [C, PR, IT])
    headers = {"Idempotency-Key": "kept"}
    first = post_event(client, sno, ONE_MORE_HOP, key, headers)
    container.clock().advance(timedelta(hours=24, minutes=1))

    shipments = container.shipments()
    with patch.object(shipments, "forget_claims", side_effect=StorageUnavailable("down")):
        again = post_event(client, sno, ONE_MORE_HOP, key, headers)

    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.data == first.data
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_a_failed_purge_fails_no_request(
    client: FlaskClient, container: Container, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    sno = shipment_with(container, [C, PR, IT])
    shipments = container.shipments()
    with patch.object(shipments, "forget_claims", side_effect=StorageUnavailable("down")):
        response = post_event(client, sno, ONE_MORE_HOP, key, {"Idempotency-Key": "p"})

    assert response.status_code == 201
    assert "purging old idempotency keys failed: down" in caplog.text
    assert statuses(container, sno) == [C, PR, IT, IT]


def test_a_claim_carries_its_keys_time(container: Container) -> None:
    # Purged with the same limit, a claim stamped later than its key could outlive it.
    claims: list[WriteClaim] = []

    def act(claim: WriteClaim) -> Answer:
        claims.append(claim)
        container.clock().advance(timedelta(milliseconds=5))  # the action takes time
        return Answer(201, b"{}")

    started = container.clock().now()
    container.idempotency().run("caller", "key", "request", act)

    [claim] = claims
    assert claim.at == started
