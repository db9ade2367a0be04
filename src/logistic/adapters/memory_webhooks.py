"""Webhook subscriptions, outbox, resolver and sender kept in memory: tests and library users."""

from __future__ import annotations

import ipaddress
import itertools
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from logistic.domain.webhook import (
    FAILING_LIMIT,
    Attempt,
    Delivery,
    Message,
    MessageStatus,
    NewMessage,
    Subscription,
)
from logistic.ports.webhook_outbox import Outcome

_FINAL = (MessageStatus.DELIVERED, MessageStatus.DEAD)


class MemoryWebhookSubscriptions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Subscription] = {}
        # Told of a deletion, so that the outbox forgets the subscription's messages.
        self.deleted: list[Callable[[str], None]] = []

    def add(self, subscription: Subscription) -> None:
        with self._lock:
            self._by_id[subscription.id] = subscription

    def get(self, subscription_id: str) -> Subscription | None:
        return self._by_id.get(subscription_id)

    def all(self) -> tuple[Subscription, ...]:
        with self._lock:
            return tuple(sorted(self._by_id.values(), key=lambda s: (s.created_at, s.id)))

    def save(self, subscription: Subscription) -> bool:
        with self._lock:
            if subscription.id not in self._by_id:
                return False
            self._by_id[subscription.id] = subscription
            return True

    def delete(self, subscription_id: str) -> bool:
        with self._lock:
            if self._by_id.pop(subscription_id, None) is None:
                return False
        for forget in self.deleted:
            forget(subscription_id)
        return True


class MemoryWebhookOutbox:
    def __init__(self, subscriptions: MemoryWebhookSubscriptions) -> None:
        self._subscriptions = subscriptions
        subscriptions.deleted.append(self._forget)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._messages: dict[int, Message] = {}
        self._tokens: dict[int, str] = {}
        self._finished_at: dict[int, datetime] = {}

    def add(self, messages: Sequence[NewMessage]) -> None:
        with self._lock:
            for new in messages:
                number = next(self._ids)
                self._messages[number] = Message(
                    id=number,
                    subscription_id=new.subscription_id,
                    sno=new.sno,
                    type=new.type,
                    body=new.body,
                    created_at=new.created_at,
                    status=MessageStatus.PENDING,
                    attempts=0,
                    next_attempt_at=new.created_at,
                )

    def claim(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        token: str,
        busy: Collection[str] = (),
        each: int | None = None,
    ) -> list[Delivery]:
        endpoints = {s.id: s for s in self._subscriptions.all() if s.enabled and s.id not in busy}
        with self._lock:
            heads: dict[tuple[str, int], int] = {}
            for message in self._messages.values():
                if message.next_attempt_at is not None:
                    pair = (message.subscription_id, message.sno)
                    heads[pair] = min(heads.get(pair, message.id), message.id)
            due = sorted(
                (
                    m
                    for m in self._messages.values()
                    if m.next_attempt_at is not None
                    and m.next_attempt_at <= now
                    and m.subscription_id in endpoints
                    and heads[(m.subscription_id, m.sno)] == m.id
                ),
                key=lambda m: (m.next_attempt_at, m.id),
            )
            per: dict[str, int] = {}
            kept: list[Message] = []
            for message in due:
                if len(kept) == limit:
                    break
                if each is not None and per.get(message.subscription_id, 0) >= each:
                    continue
                per[message.subscription_id] = per.get(message.subscription_id, 0) + 1
                kept.append(message)
            due = kept
            for message in due:
                self._messages[message.id] = evolve(message, next_attempt_at=now + lease)
                self._tokens[message.id] = token
            return [
                Delivery(
                    message,
                    endpoints[message.subscription_id].url,
                    endpoints[message.subscription_id].signing_secrets(now),
                    token,
                )
                for message in due
            ]

    def release(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        with self._lock:
            for delivery in deliveries:
                number = delivery.message.id
                if number in self._messages and self._tokens.get(number) == delivery.token:
                    del self._tokens[number]
                    self._messages[number] = evolve(self._messages[number], next_attempt_at=now)

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        recorded = 0
        with self._lock:
            for outcome in outcomes:
                number = outcome.delivery.message.id
                stored = self._messages.get(number)
                if stored is None:
                    continue
                history = (*stored.history, outcome.attempt)
                if self._tokens.get(number) != outcome.delivery.token:
                    self._messages[number] = evolve(stored, history=history)
                    continue
                del self._tokens[number]
                self._messages[number] = evolve(
                    stored,
                    status=outcome.status,
                    attempts=stored.attempts + 1,
                    next_attempt_at=outcome.next_attempt_at,
                    history=history,
                )
                if outcome.status in _FINAL:
                    self._finished_at[number] = outcome.attempt.at
                recorded += 1
        self._endpoint_health(outcomes)
        return recorded

    def _endpoint_health(self, outcomes: Sequence[Outcome]) -> None:
        latest = {o.delivery.message.subscription_id: o.attempt for o in outcomes}
        for subscription_id, attempt in latest.items():
            subscription = self._subscriptions.get(subscription_id)
            if subscription is None:
                continue
            if attempt.succeeded:
                changed = evolve(subscription, failing_since=None)
            else:
                since = subscription.failing_since or attempt.at
                enabled = subscription.enabled and not attempt.gone
                enabled = enabled and since > attempt.at - FAILING_LIMIT
                changed = evolve(subscription, failing_since=since, enabled=enabled)
            self._subscriptions.save(changed)

    def messages(
        self,
        subscription_id: str,
        since: datetime,
        status: MessageStatus | None = None,
        limit: int = 100,
    ) -> list[Message]:
        with self._lock:
            found = [
                m
                for m in self._messages.values()
                if m.subscription_id == subscription_id
                and m.created_at >= since
                and (status is None or m.status is status)
            ]
        return sorted(found, key=lambda m: -m.id)[:limit]

    def retry(self, subscription_id: str, message_id: int, now: datetime) -> Message | None:
        with self._lock:
            stored = self._messages.get(message_id)
            if stored is None or stored.subscription_id != subscription_id:
                return None
            self._tokens.pop(message_id, None)
            self._finished_at.pop(message_id, None)
            retried = evolve(stored, status=MessageStatus.PENDING, attempts=0, next_attempt_at=now)
            self._messages[message_id] = retried
            return retried

    def oldest_waiting(self) -> datetime | None:
        with self._lock:
            waiting = [m for m in self._messages.values() if m.status not in _FINAL]
        return min(waiting, key=lambda m: m.id).created_at if waiting else None

    def purge(self, before: datetime) -> int:
        with self._lock:
            old = [number for number, at in self._finished_at.items() if at < before]
            for number in old:
                del self._finished_at[number]
                self._messages.pop(number, None)
            return len(old)

    def _forget(self, subscription_id: str) -> None:
        with self._lock:
            for number in [
                m.id for m in self._messages.values() if m.subscription_id == subscription_id
            ]:
                del self._messages[number]
                self._tokens.pop(number, None)
                self._finished_at.pop(number, None)


class MemoryResolver:
    """Names resolved from a table; an IP literal resolves to itself."""

    def __init__(self, names: Mapping[str, Sequence[str]] | None = None) -> None:
        self._names = {name: tuple(found) for name, found in (names or {}).items()}

    def addresses(self, host: str) -> tuple[str, ...]:
        try:
            return (str(ipaddress.ip_address(host.strip("[]"))),)
        except ValueError:
            return self._names.get(host.lower(), ())


class MemoryWebhookSender:
    """Records what it is asked to send; answers with `answer(url)` (200 by default)."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        answer: Callable[[str], int | None] = lambda url: 200,
    ) -> None:
        self._clock = clock
        self._answer = answer
        self.sent: list[tuple[str, dict[str, str], bytes]] = []

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        self.sent.append((url, dict(headers), body))
        code = self._answer(url)
        answer = "" if code is not None else "connection refused"
        return Attempt(self._clock(), code, 0, answer)
