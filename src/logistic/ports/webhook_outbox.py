"""The webhook outbox: messages waiting for delivery, their claims, outcomes and attempts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from attrs import frozen

from logistic.domain.webhook import Attempt, Delivery, Message, MessageStatus, NewMessage


@frozen
class Outcome:
    """What became of one claimed delivery: the attempt, the message's new status and
    when it is tried next (None once delivered or dead)."""

    delivery: Delivery
    attempt: Attempt
    status: MessageStatus
    next_attempt_at: datetime | None


class WebhookOutbox(Protocol):
    """Messages waiting for (or done with) delivery, and their attempts.

    Messages of one subscription about one shipment are handed out in id order, one
    at a time: a message is claimable only when every earlier one of its shipment
    and subscription was delivered or died.
    """

    def add(self, messages: Sequence[NewMessage]) -> None:
        """Store new messages, due at once, atomically. (Messages that report a change
        are written by the change's own transaction instead: see ShipmentRepository.)"""
        ...

    def claim(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        token: str,
        busy: Collection[str] = (),
        each: int | None = None,
    ) -> list[Delivery]:
        """Up to `limit` due messages of enabled subscriptions not in `busy` (at most `each`
        of one subscription), oldest due first, each the first unfinished one of its
        shipment and subscription.

        Claimed atomically: no concurrent claim gets the same message until `lease` has
        passed (then it is due again, as when the claimer died). Empty when none is due.
        """
        ...

    def release(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        """Give claimed messages back unsent: due again at `now` (a claim no longer
        ours is left alone)."""
        ...

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        """Record each outcome and its attempt atomically, and the endpoint's health: a
        success clears its failing streak, a failure starts one (an endpoint failing
        for FAILING_LIMIT is disabled), a 410 disables it. An outcome whose claim is no
        longer ours (the lease ran out and another took it) is skipped; how many were
        recorded."""
        ...

    def messages(
        self,
        subscription_id: str,
        since: datetime,
        status: MessageStatus | None = None,
        limit: int = 100,
    ) -> list[Message]:
        """The subscription's messages created since `since` (in `status` if given),
        newest first, each with its attempts oldest first."""
        ...

    def retry(self, subscription_id: str, message_id: int, now: datetime) -> Message | None:
        """Make the message due now with a fresh schedule, whatever its status; None
        if the subscription has no such message."""
        ...

    def oldest_waiting(self) -> datetime | None:
        """When the first-added message not yet delivered or dead was created (of any
        subscription, a disabled one's too: its messages wait); None when none waits.
        Cheap however long the backlog: it is read every few seconds."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete delivered and dead messages finished before `before`, with their
        attempts; how many messages."""
        ...
