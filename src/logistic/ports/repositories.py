from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, Location, Shipment, TrackingEvent


@frozen
class NewShipment:
    """A fake or imported order before the repository gives it a sno."""

    recipient: Contact
    plan: PlannedShipment
    promised_by: datetime


@frozen
class EventClaim:
    """An Idempotency-Key's mark on the event its request appends, stored with the event.

    `digest` is an opaque string of at most 64 characters; `at` is when it was claimed.
    A retry that finds its claim stored knows its event was recorded, even when the
    process that recorded it died before it could keep its answer.
    """

    digest: str
    at: datetime


class ShipmentRepository(Protocol):
    def get(self, sno: int) -> Shipment | None:
        """The shipment with its whole history (oldest first), read in one call; None if unknown."""
        ...

    def add_many(self, shipments: Sequence[NewShipment]) -> list[Shipment]:
        """Store new shipments, their recipients and histories atomically.

        Every shipment gets a fresh sno that no concurrent caller can get; either all
        are stored or none is (StorageUnavailable is raised and nothing is written).
        Returned in the order given.
        """
        ...

    def add_in_bulk(self, shipments: Sequence[NewShipment]) -> range:
        """Store new shipments as add_many does (atomically, fresh snos), reading nothing back.

        For bulk loads, where the stored shipments are not needed: returns the snos
        they were given, one contiguous block in the order given (empty for no shipment).
        """
        ...

    def append_event(
        self,
        sno: int,
        event: TrackingEvent,
        expected_events: int,
        claim: EventClaim | None = None,
    ) -> Shipment:
        """Append one event and update the shipment's current status and location, atomically.

        `expected_events` is the history length the caller validated against; when another
        writer appended first, ConcurrentUpdate is raised and nothing is written.
        Raises ShipmentNotFound for an unknown sno. A `claim` is stored in the same
        transaction; one stored already (see `claimed`) raises ConcurrentUpdate, and
        then nothing is written either.

        The caller has checked the event against the lifecycle (`Shipment.record`): the
        /query cache relies on a delivered or returned shipment never taking another.
        """
        ...

    def event_count(self, sno: int) -> int | None:
        """How many events the shipment has (it only grows: a version), in one cheap read.

        None for an unknown sno. Always reads the latest committed state.
        """
        ...

    def claimed(self, digest: str) -> bool:
        """Whether an event was appended under this claim's digest (and not forgotten).

        Always reads the latest committed state.
        """
        ...

    def forget_claims(self, before: datetime) -> int:
        """Forget the claims made before `before` (their events stay); how many were forgotten."""
        ...

    def count(self) -> int:
        """How many shipments are stored."""
        ...


class LocationCatalog(Protocol):
    def all(self) -> tuple[Location, ...]:
        """Every logistics center, ordered by id (empty when none is stored yet)."""
        ...

    def sync(self, locations: Sequence[Location]) -> None:
        """Insert or update these centers by id (idempotent)."""
        ...
