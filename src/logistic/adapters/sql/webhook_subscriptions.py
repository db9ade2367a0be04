"""Webhook subscriptions in the database (migration 0012)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import webhook_attempts, webhook_messages, webhook_subscriptions
from logistic.domain.status import Status
from logistic.domain.webhook import Subscription


def subscription_row(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "statuses": ",".join(status.value for status in subscription.statuses),
        "description": subscription.description,
        "enabled": subscription.enabled,
        "secret": subscription.secret,
        "previous_secret": subscription.previous_secret,
        "previous_until": subscription.previous_until,
        "pii": subscription.pii,
        "created_at": subscription.created_at,
        "failing_since": subscription.failing_since,
    }


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        statuses=tuple(Status(name) for name in row.statuses.split(",") if name),
        description=row.description,
        enabled=bool(row.enabled),
        secret=row.secret,
        created_at=row.created_at,
        previous_secret=row.previous_secret,
        previous_until=row.previous_until,
        pii=bool(row.pii),
        failing_since=row.failing_since,
    )


class SqlWebhookSubscriptions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def add(self, subscription: Subscription) -> None:
        with storage_errors(), self._writer.begin() as connection:
            connection.execute(insert(webhook_subscriptions), [subscription_row(subscription)])

    def get(self, subscription_id: str) -> Subscription | None:
        query = select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        with storage_errors(), self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else subscription_from_row(row)

    def all(self) -> tuple[Subscription, ...]:
        query = select(webhook_subscriptions).order_by(
            webhook_subscriptions.c.created_at, webhook_subscriptions.c.id
        )
        with storage_errors(), self._engine.connect() as connection:
            return tuple(subscription_from_row(row) for row in connection.execute(query))

    def save(self, subscription: Subscription) -> bool:
        row = subscription_row(subscription)
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(
                update(webhook_subscriptions)
                .where(webhook_subscriptions.c.id == subscription.id)
                .values(row)
            )
            if result.rowcount:
                return True
            # MariaDB counts changed rows: an update that changed nothing counts none.
            found = connection.execute(
                select(webhook_subscriptions.c.id).where(
                    webhook_subscriptions.c.id == subscription.id
                )
            ).first()
            return found is not None

    def delete(self, subscription_id: str) -> bool:
        messages = select(webhook_messages.c.id).where(
            webhook_messages.c.subscription_id == subscription_id
        )
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(
                delete(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
            )
            if not result.rowcount:
                return False
            ids = list(connection.execute(messages).scalars())
            for start in range(0, len(ids), 1000):
                chunk = ids[start : start + 1000]
                connection.execute(
                    delete(webhook_attempts).where(webhook_attempts.c.message_id.in_(chunk))
                )
            connection.execute(
                delete(webhook_messages).where(
                    webhook_messages.c.subscription_id == subscription_id
                )
            )
            return True
