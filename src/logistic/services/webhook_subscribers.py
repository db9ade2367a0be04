"""Who hears of a change: the enabled subscriptions, cached briefly, and their messages.

Every recorded event asks; reading the subscriptions each time would add a round trip
to every write, so they are kept in this process for `ttl` (LOGISTIC_WEBHOOK_CACHE_TTL):
a subscription made or changed elsewhere applies to events within that time, at once in
the process that made it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, timedelta

from logistic.domain.model import Shipment
from logistic.domain.webhook import NewMessage, Subscription
from logistic.ports.clock import Clock
from logistic.ports.repositories import MessagesFor
from logistic.ports.webhook_subscriptions import WebhookSubscriptions
from logistic.services.tracking import Tracking, View


def envelope(kind: str, timestamp: str, data: bytes) -> bytes:
    """The message body: `{"type", "timestamp", "data"}`, `data` already JSON."""
    head = f'{{"type":"{kind}","timestamp":"{timestamp}","data":'.encode()
    return head + data + b"}"


class Subscribers:
    def __init__(
        self,
        subscriptions: WebhookSubscriptions,
        tracking: Tracking,
        clock: Clock,
        ttl: timedelta,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subscriptions = subscriptions
        self._tracking = tracking
        self._clock = clock
        self._ttl = ttl.total_seconds()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._enabled: tuple[Subscription, ...] = ()
        self._read_at: float | None = None

    def enabled(self) -> tuple[Subscription, ...]:
        """The enabled subscriptions, as read at most `ttl` ago."""
        now = self._monotonic()
        with self._lock:
            if self._read_at is not None and now - self._read_at < self._ttl:
                return self._enabled
        found = tuple(s for s in self._subscriptions.all() if s.enabled)
        with self._lock:
            self._enabled, self._read_at = found, now
        return found

    def changed(self) -> None:
        """This process changed a subscription: read them again at the next event."""
        with self._lock:
            self._read_at = None

    def messages_for(self, kind: str) -> MessagesFor | None:
        """What a write of a shipment should store for the subscribers (None: nobody listens)."""
        listening = self.enabled()
        if not listening:
            return None
        return lambda shipment: self._messages(kind, listening, shipment)

    def _messages(
        self, kind: str, listening: Sequence[Subscription], shipment: Shipment
    ) -> list[NewMessage]:
        status = shipment.current_status
        wanted = [s for s in listening if s.wants(status)]
        if not wanted:
            return []
        now = self._clock.now()
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        bodies: dict[View, bytes] = {}
        messages = []
        for subscription in wanted:
            view = View.FULL if subscription.pii else View.MASKED
            if view not in bodies:
                bodies[view] = envelope(kind, stamp, self._tracking.render(shipment, view))
            messages.append(NewMessage(subscription.id, shipment.sno, kind, bodies[view], now))
        return messages
