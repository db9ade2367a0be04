"""Managing webhook subscriptions: subscribe, change, rotate the secret, test, replay."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC

from attrs import evolve

from logistic.domain.errors import InvalidInput, WebhookMessageNotFound, WebhookNotFound
from logistic.domain.status import Status
from logistic.domain.webhook import (
    KEPT_FOR,
    TEST,
    Message,
    MessageStatus,
    NewMessage,
    Subscription,
    message_number,
)
from logistic.domain.webhook_address import endpoint_host, refused
from logistic.domain.webhook_signature import secret_text
from logistic.ports.clock import Clock
from logistic.ports.host_resolver import HostResolver
from logistic.ports.webhook_outbox import WebhookOutbox
from logistic.ports.webhook_subscriptions import WebhookSubscriptions
from logistic.services.webhook_subscribers import Subscribers, envelope

MAX_DESCRIPTION = 255
SUBSCRIPTION_PREFIX = "ep_"


def new_secret() -> str:
    """`whsec_` and 24 random bytes in base64, as Standard Webhooks senders make them."""
    return secret_text(secrets.token_bytes(24))


def new_subscription_id() -> str:
    return SUBSCRIPTION_PREFIX + secrets.token_hex(12)


def parse_statuses(value: object) -> tuple[Status, ...]:
    """The statuses a subscription filters on (empty: all); InvalidInput for anything else."""
    known = ", ".join(status.value for status in Status)
    problem = f"statuses must be a list of statuses, some of: {known}"
    if not isinstance(value, list) or len(value) > len(Status):
        raise InvalidInput(problem)
    chosen = []
    for item in value:
        if not isinstance(item, str) or item not in {status.value for status in Status}:
            raise InvalidInput(problem)
        if Status(item) not in chosen:
            chosen.append(Status(item))
    return tuple(chosen)


def parse_description(value: object) -> str:
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise InvalidInput(f"description must be text of at most {MAX_DESCRIPTION} characters")
    return value


class Webhooks:
    def __init__(
        self,
        subscriptions: WebhookSubscriptions,
        outbox: WebhookOutbox,
        subscribers: Subscribers,
        resolver: HostResolver,
        clock: Clock,
        allow_http: bool = False,
        allow_private: bool = False,
        new_id: Callable[[], str] = new_subscription_id,
    ) -> None:
        self._subscriptions = subscriptions
        self._outbox = outbox
        self._subscribers = subscribers
        self._resolver = resolver
        self._clock = clock
        self._allow_http = allow_http
        self._allow_private = allow_private
        self._new_id = new_id

    def checked_url(self, url: object) -> str:
        """`url`, when webhooks may be sent there; InvalidInput saying why not otherwise."""
        if not isinstance(url, str):
            raise InvalidInput("url is required, an absolute https URL")
        host = endpoint_host(url, self._allow_http)
        if self._allow_private:
            return url
        addresses = self._resolver.addresses(host)
        if not addresses:
            raise InvalidInput(f"url's host {host} does not resolve")
        inside = [address for address in addresses if refused(address)]
        if inside:
            raise InvalidInput(
                f"url's host {host} resolves to {inside[0]}, a loopback, private, link-local"
                " or reserved address: webhooks are not sent there"
            )
        return url

    def subscribe(
        self, url: object, statuses: Sequence[Status], description: str, pii: bool
    ) -> Subscription:
        subscription = Subscription(
            id=self._new_id(),
            url=self.checked_url(url),
            statuses=tuple(statuses),
            description=description,
            enabled=True,
            secret=new_secret(),
            created_at=self._clock.now(),
            pii=pii,
        )
        self._subscriptions.add(subscription)
        self._subscribers.changed()
        return subscription

    def all(self) -> tuple[Subscription, ...]:
        return self._subscriptions.all()

    def get(self, subscription_id: str) -> Subscription:
        found = self._subscriptions.get(subscription_id)
        if found is None:
            raise WebhookNotFound(subscription_id)
        return found

    def change(
        self,
        subscription_id: str,
        url: object | None = None,
        statuses: Sequence[Status] | None = None,
        enabled: bool | None = None,
        description: str | None = None,
    ) -> Subscription:
        current = self.get(subscription_id)
        changed = current
        if url is not None:
            changed = evolve(changed, url=self.checked_url(url))
        if statuses is not None:
            changed = evolve(changed, statuses=tuple(statuses))
        if description is not None:
            changed = evolve(changed, description=description)
        if enabled is not None:
            # Enabled again: its failing streak starts over.
            failing = None if enabled and not current.enabled else changed.failing_since
            changed = evolve(changed, enabled=enabled, failing_since=failing)
        return self._saved(changed)

    def delete(self, subscription_id: str) -> None:
        if not self._subscriptions.delete(subscription_id):
            raise WebhookNotFound(subscription_id)
        self._subscribers.changed()

    def rotate(self, subscription_id: str) -> Subscription:
        """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP."""
        current = self.get(subscription_id)
        return self._saved(current.rotated(new_secret(), self._clock.now()))

    def test(self, subscription_id: str) -> NewMessage:
        """A `webhook.test` message, due now (sno 0: it is about no shipment)."""
        subscription = self.get(subscription_id)
        now = self._clock.now()
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        data = f'{{"subscription_id":"{subscription.id}"}}'.encode()
        message = NewMessage(subscription.id, 0, TEST, envelope(TEST, stamp, data), now)
        self._outbox.add([message])
        return message

    def messages(self, subscription_id: str, status: MessageStatus | None) -> list[Message]:
        """The subscription's messages of the last 7 days, newest first (at most 100)."""
        self.get(subscription_id)
        return self._outbox.messages(subscription_id, self._clock.now() - KEPT_FOR, status)

    def retry(self, subscription_id: str, webhook_id: str) -> Message:
        """Send the message again now (delivered or dead ones too), with a fresh schedule."""
        self.get(subscription_id)
        number = message_number(webhook_id)
        found = None
        if number is not None:
            found = self._outbox.retry(subscription_id, number, self._clock.now())
        if found is None:
            raise WebhookMessageNotFound(webhook_id)
        return found

    def _saved(self, subscription: Subscription) -> Subscription:
        if not self._subscriptions.save(subscription):
            raise WebhookNotFound(subscription.id)
        self._subscribers.changed()
        return subscription
