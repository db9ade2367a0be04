"""Shipments, their events and the logistics-center catalog, as stored."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from attrs import frozen

from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, Location, Shipment, TrackingEvent
from logistic.domain.webhook import NewMessage
from logistic.ports.idempotency import WriteClaim

# The webhook messages that report a stored shipment's change (see Webhooks.messages_for):
# called inside the writing transaction, and what it returns is stored in the same one.
MessagesFor = Callable[[Shipment], Sequence[NewMessage]]


@frozen
class NewShipment:
    """A fake or imported order before the repository gives it a sno."""

    recipient: Contact
    plan: PlannedShipment
    promised_by: datetime


@frozen
class Locked:
    """What a batch of appends finds, the shipments' rows locked until it commits:
    the shipments by sno (unknown snos left out) and the claims stored already under
    the keys asked, by key."""

    shipments: Mapping[int, Shipment]
    claims: Mapping[str, WriteClaim]


@frozen
class NewEvent:
    """An event a batch appends, and the claim of the item that sent it, if any."""

    event: TrackingEvent
    claim: WriteClaim | None = None


# What a batch appends to each shipment (by sno, oldest first), decided on what it found.
Decide = Callable[[Locked], Mapping[int, Sequence[NewEvent]]]


class ShipmentRepository(Protocol):
    def get(self, sno: int) -> Shipment | None:
        """The shipment with its whole history (oldest first), read in one call; None if unknown."""
        ...

    def get_many(self, snos: Sequence[int]) -> dict[int, Shipment]:
        """`get` of many snos in one round trip (more only for orders stored without a
        current snapshot): the shipments found, by sno; unknown snos are left out."""
        ...

    def add_many(
        self, shipments: Sequence[NewShipment], messages: MessagesFor | None = None
    ) -> list[Shipment]:
        """Store new shipments, their recipients and histories atomically.

        `messages` is called with each stored shipment; the webhook messages it returns
        are written in the same transaction (none when the shipments are not stored).

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
        claim: WriteClaim | None = None,
        messages: MessagesFor | None = None,
    ) -> Shipment:
        """Append one event and update the shipment's current status and location, atomically.

        `messages` is called with the updated shipment inside the transaction; the webhook
        messages it returns are written in it too, so they exist exactly when the event does.

        `expected_events` is the history length the caller validated against; when another
        writer appended first, ConcurrentUpdate is raised and nothing is written.
        Raises ShipmentNotFound for an unknown sno. A `claim` is stored in the same
        transaction; a claim of the same key stored already (see `claim`) raises
        ConcurrentUpdate, and then nothing is written either.

        The caller has checked the event against the lifecycle (`Shipment.record`): the
        /query cache relies on a delivered or returned shipment never taking another.
        """
        ...

    def append_events(
        self,
        snos: Collection[int],
        keys: Collection[str],
        decide: Decide,
        messages: MessagesFor | None = None,
    ) -> dict[int, Shipment]:
        """Append events to many shipments in ONE transaction: all of them, or none.

        The shipments `snos` are read and locked against every other writer
        (`append_event` included), with the claims already stored under `keys`;
        `decide` is given them and answers the events to append to each shipment,
        checked against the lifecycle (`Shipment.record`). They are appended with
        their claims, each shipment's status, place and snapshot and the counts
        changed, and committed at once. Returns the shipments that took an event, as
        stored (their events numbered), by sno. `decide` may be called again when the
        database breaks a deadlock by rolling the transaction back: only its last
        answer is written. StorageUnavailable: nothing is written. `messages` is called
        with each shipment as it stood after each new event, in order; the webhook messages
        it returns are written in the same transaction.
        """
        ...

    def event_count(self, sno: int) -> int | None:
        """How many events the shipment has (it only grows: a version), in one cheap read.

        None for an unknown sno. Always reads the latest committed state.
        """
        ...

    def event_counts(self, snos: Sequence[int]) -> dict[int, int]:
        """`event_count` of many snos in one read: by sno, unknown snos left out."""
        ...

    def claim(self, key: str) -> WriteClaim | None:
        """The claim of `key` an event was appended with; None if none (or forgotten).

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
