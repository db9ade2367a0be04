"""The webhook rules alone: signatures, the retry schedule, which addresses are refused."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from logistic.domain.errors import InvalidInput
from logistic.domain.retry_schedule import STANDARD, RetrySchedule
from logistic.domain.status import Status
from logistic.domain.webhook import (
    ROTATION_OVERLAP,
    Attempt,
    Delivery,
    Message,
    MessageStatus,
    Subscription,
    message_number,
)
from logistic.domain.webhook_address import endpoint_host, refused
from logistic.domain.webhook_signature import webhook_headers
from logistic.services.dispatch import outcome_of
from logistic.services.webhooks import new_secret

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
BODY = json.dumps({"type": "shipment.status_changed", "data": {"sno": "7"}}).encode()


def _subscription(**changes: object) -> Subscription:
    fields: dict[str, object] = {
        "id": "ep_1",
        "url": "https://example.com/hooks",
        "statuses": (),
        "description": "",
        "enabled": True,
        "secret": new_secret(),
        "created_at": NOW,
    }
    return Subscription(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_secret_is_whsec_and_24_random_bytes_in_base64() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert new_secret() != secret


def test_the_signature_verifies_with_the_standard_webhooks_library() -> None:
    secret = new_secret()
    stamp = int(datetime.now(UTC).timestamp())
    headers = webhook_headers((secret,), "msg_7", stamp, BODY)

    assert Webhook(secret).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", headers)


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new() -> None:
    old = _subscription()
    rotated = old.rotated(new_secret(), NOW)
    stamp = int(datetime.now(UTC).timestamp())

    both = rotated.signing_secrets(NOW + ROTATION_OVERLAP - timedelta(seconds=1))
    headers = webhook_headers(both, "msg_1", stamp, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old.secret, rotated.secret):
        Webhook(secret).verify(BODY, headers)
    assert rotated.signing_secrets(NOW + ROTATION_OVERLAP) == (rotated.secret,)


def test_a_subscription_wants_its_statuses_or_all_while_enabled() -> None:
    assert _subscription().wants(Status.IN_TRANSIT)
    only = _subscription(statuses=(Status.DELIVERED,))
    assert only.wants(Status.DELIVERED)
    assert not only.wants(Status.IN_TRANSIT)
    assert not _subscription(enabled=False).wants(Status.DELIVERED)


def test_the_standard_schedule_is_eight_attempts_with_jitter() -> None:
    schedule = RetrySchedule()
    rng = random.Random(1)
    assert schedule.attempts == len(STANDARD) == 8
    assert schedule.after_failure(8, rng) is None
    for failures in range(1, 8):
        delay = schedule.after_failure(failures, rng)
        assert delay is not None
        expected = STANDARD[failures]
        assert expected * 0.9 <= delay.total_seconds() <= expected * 1.1


@pytest.mark.parametrize("text", ["", "a,b", "5,-1", ","])
def test_a_malformed_schedule_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        RetrySchedule.parse(text)


def _delivery(attempts: int) -> Delivery:
    message = Message(1, "ep_1", 7, "t", BODY, NOW, MessageStatus.FAILED, attempts, NOW, ())
    return Delivery(message, "https://example.com", ("whsec_x",), "token")


@pytest.mark.parametrize(
    ("code", "attempts", "status"),
    [
        (200, 0, MessageStatus.DELIVERED),
        (204, 7, MessageStatus.DELIVERED),
        (410, 0, MessageStatus.DEAD),
        (500, 0, MessageStatus.FAILED),
        (None, 6, MessageStatus.FAILED),
        (500, 7, MessageStatus.DEAD),
        (302, 0, MessageStatus.FAILED),
    ],
)
def test_outcomes(code: int | None, attempts: int, status: MessageStatus) -> None:
    attempt = Attempt(NOW, code, 5, "")
    outcome = outcome_of(_delivery(attempts), attempt, RetrySchedule(), random.Random(1))
    assert outcome.status is status
    assert (outcome.next_attempt_at is None) == (status is not MessageStatus.FAILED)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "not an address",
    ],
)
def test_inside_addresses_are_refused(address: str) -> None:
    assert refused(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are_not(address: str) -> None:
    assert not refused(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/",
        "ftp://example.com/",
        "https:///nohost",
        "https://user:pw@example.com/",
        "https://example.com/a b",
        "https://example.com:99999/",
        "example.com",
        "",
        "https://" + "a" * 2100 + ".com",
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        endpoint_host(url, allow_http=False)


def test_plain_http_is_allowed_when_switched_on() -> None:
    assert endpoint_host("http://127.0.0.1:8080/hooks", allow_http=True) == "127.0.0.1"


def test_message_numbers_are_read_from_webhook_ids() -> None:
    assert message_number("msg_42") == 42
    for text in ("msg_", "msg_x", "ep_1", "msg_-1", "msg_" + "9" * 30, "msg_١"):
        assert message_number(text) is None
