"""The endpoints subscribed to webhook messages."""

from __future__ import annotations

from typing import Protocol

from logistic.domain.webhook import Subscription


class WebhookSubscriptions(Protocol):
    """The endpoints subscribed to webhook messages, by id."""

    def add(self, subscription: Subscription) -> None:
        """Store a new subscription (its id is fresh: the caller drew it at random)."""
        ...

    def get(self, subscription_id: str) -> Subscription | None:
        """The subscription with this id; None if there is none."""
        ...

    def all(self) -> tuple[Subscription, ...]:
        """Every subscription, enabled or not, oldest first."""
        ...

    def save(self, subscription: Subscription) -> bool:
        """Replace the stored subscription of the same id; False (nothing written) if unknown."""
        ...

    def delete(self, subscription_id: str) -> bool:
        """Remove the subscription and every message and attempt of it, atomically;
        False if it was unknown."""
        ...
