"""One contract for the WebhookSubscriptions port, on memory, SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from attrs import evolve

from logistic.adapters.memory_webhooks import MemoryWebhookSubscriptions
from logistic.adapters.sql.webhook_subscriptions import SqlWebhookSubscriptions
from logistic.domain.status import Status
from logistic.domain.webhook import Subscription
from logistic.ports.webhook_subscriptions import WebhookSubscriptions
from tests.integration.sql_backends import Backend

NOW = datetime(2026, 11, 25, 4, 0, 0, 123456, tzinfo=UTC)
FIRST = Subscription(
    id="ep_first",
    url="https://example.com/hooks?shop=小店",
    statuses=(Status.DELIVERED, Status.RETURNED_TO_SENDER),
    description="說明",
    enabled=True,
    secret="whsec_" + "B" * 32,
    created_at=NOW,
    pii=True,
)


@pytest.fixture
def subscriptions(empty_backend: Backend) -> WebhookSubscriptions:
    if empty_backend.engine is None:
        return MemoryWebhookSubscriptions()
    return SqlWebhookSubscriptions(empty_backend.engine)


def test_unknown_ids_are_none_or_false(subscriptions: WebhookSubscriptions) -> None:
    assert subscriptions.get("ep_none") is None
    assert subscriptions.all() == ()
    assert subscriptions.save(FIRST) is False
    assert subscriptions.delete("ep_none") is False


def test_a_subscription_comes_back_as_stored(subscriptions: WebhookSubscriptions) -> None:
    second = evolve(FIRST, id="ep_second", statuses=(), created_at=NOW + timedelta(seconds=1))
    subscriptions.add(second)
    subscriptions.add(FIRST)

    assert subscriptions.get("ep_first") == FIRST
    assert subscriptions.all() == (FIRST, second)


def test_save_replaces_and_delete_removes(subscriptions: WebhookSubscriptions) -> None:
    subscriptions.add(FIRST)
    rotated = evolve(
        FIRST.rotated("whsec_" + "C" * 32, NOW),
        enabled=False,
        failing_since=NOW,
        statuses=(Status.IN_TRANSIT,),
    )

    assert subscriptions.save(rotated) is True
    assert subscriptions.save(rotated) is True
    assert subscriptions.get("ep_first") == rotated
    assert subscriptions.delete("ep_first") is True
    assert subscriptions.get("ep_first") is None
