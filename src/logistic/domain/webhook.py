"""Webhook subscriptions, their outbox messages and the delivery attempts, as plain values."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from attrs import evolve, frozen

from logistic.domain.status import Status

# Rotating a secret keeps the old one signing beside the new for this long, so a
# receiver can switch at its own pace.
ROTATION_OVERLAP = timedelta(hours=24)
# An endpoint that has answered nothing but failures for this long is switched off.
FAILING_LIMIT = timedelta(days=5)
# Delivered and dead messages are kept (and listed) for this long.
KEPT_FOR = timedelta(days=7)
# What is kept of an endpoint's answer to each attempt.
ANSWER_EXCERPT = 1024

STATUS_CHANGED = "shipment.status_changed"
CREATED = "shipment.created"
TEST = "webhook.test"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"  # not tried yet
    FAILED = "failed"  # tried, will be tried again
    DELIVERED = "delivered"
    DEAD = "dead"  # every attempt of the schedule failed, or the endpoint said 410


@frozen
class Subscription:
    """An endpoint that receives the messages of the statuses it chose (all when empty)."""

    id: str
    url: str
    statuses: tuple[Status, ...]
    description: str
    enabled: bool
    secret: str
    created_at: datetime
    # The secret before the last rotation, still signing until `previous_until`.
    previous_secret: str | None = None
    previous_until: datetime | None = None
    # Made by a key with pii:read: its messages carry the full recipient.
    pii: bool = False
    # The first failure since the last success (None while it succeeds).
    failing_since: datetime | None = None

    def wants(self, status: Status | None) -> bool:
        return self.enabled and (not self.statuses or status in self.statuses)

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets a message sent at `now` is signed with (the new one first)."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def rotated(self, secret: str, now: datetime) -> Subscription:
        return evolve(
            self, secret=secret, previous_secret=self.secret, previous_until=now + ROTATION_OVERLAP
        )


@frozen
class NewMessage:
    """A message for one subscription, written to the outbox with the change it reports."""

    subscription_id: str
    sno: int
    type: str
    body: bytes
    created_at: datetime


@frozen
class Attempt:
    """One try at delivering a message: the endpoint's status code (None when it never
    answered: refused, timed out), how long it took, and the start of its answer."""

    at: datetime
    status_code: int | None
    latency_ms: int
    answer: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks for no more messages."""
        return self.status_code == 410


@frozen
class Message:
    """A stored message with its delivery state; `id` orders a shipment's messages."""

    id: int
    subscription_id: str
    sno: int
    type: str
    body: bytes
    created_at: datetime
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    history: tuple[Attempt, ...] = ()

    @property
    def webhook_id(self) -> str:
        """The `webhook-id` header: the same at every attempt and every replay."""
        return f"msg_{self.id}"


def message_number(webhook_id: str) -> int | None:
    """The id inside a `msg_<id>` text; None when it is not one."""
    prefix, _, digits = webhook_id.partition("_")
    if prefix != "msg" or not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(digits)


@frozen
class Delivery:
    """A claimed message with what sending it needs: where, and the secrets to sign with."""

    message: Message
    url: str
    secrets: tuple[str, ...]
    # The claim's mark: the outcome is recorded only while the claim is still ours.
    token: str
