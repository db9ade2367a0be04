"""Shipments, their tracking events, and the places and people they move between."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from attrs import evolve, field, frozen

from logistic.domain.errors import InvalidInput, TransitionRefused
from logistic.domain.status import Status, allowed_next


class Region(enum.StrEnum):
    """Where a logistics center sits; outlying islands take longer to reach."""

    MAIN_ISLAND = "main_island"
    OUTLYING_ISLANDS = "outlying_islands"


@frozen
class Location:
    """A logistics center (reference data with a stable id)."""

    id: int
    title: str
    city: str
    address: str
    region: Region = Region.MAIN_ISLAND


@frozen
class Contact:
    """A person's name, phone and address before they are stored as a recipient."""

    name: str
    phone: str
    address: str


@frozen
class Recipient:
    id: int
    name: str
    phone: str
    address: str

    @classmethod
    def from_contact(cls, recipient_id: int, contact: Contact) -> Recipient:
        return cls(recipient_id, contact.name, contact.phone, contact.address)


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value  # the common case, made cheap: histories are built in UTC
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("timestamps must carry a time zone")
    return value.astimezone(UTC)


@frozen
class TrackingEvent:
    """One scan of a parcel: a status at a logistics center at a moment (kept in UTC)."""

    status: Status
    location_id: int
    occurred_at: datetime = field(converter=_to_utc)
    id: int | None = None
    note: str | None = None


@frozen
class Shipment:
    """An order being delivered, with its history oldest first."""

    sno: int
    recipient: Recipient
    origin_id: int
    destination_id: int
    created_at: datetime = field(converter=_to_utc)
    promised_by: datetime = field(converter=_to_utc)
    events: tuple[TrackingEvent, ...] = ()

    @property
    def statuses(self) -> tuple[Status, ...]:
        return tuple(event.status for event in self.events)

    @property
    def current_status(self) -> Status | None:
        return self.events[-1].status if self.events else None

    @property
    def current_location_id(self) -> int | None:
        return self.events[-1].location_id if self.events else None

    @property
    def last_event_at(self) -> datetime | None:
        return self.events[-1].occurred_at if self.events else None

    @property
    def delivered_at(self) -> datetime | None:
        for event in reversed(self.events):
            if event.status is Status.DELIVERED:
                return event.occurred_at
        return None

    def allowed_next(self) -> frozenset[Status]:
        return allowed_next(self.statuses)

    def record(self, event: TrackingEvent) -> Shipment:
        """This shipment with `event` appended, if the lifecycle allows it."""
        allowed = self.allowed_next()
        current = self.current_status
        if event.status not in allowed:
            raise TransitionRefused(
                f"{event.status} cannot follow {current or 'an empty history'}",
                current=current,
                allowed=tuple(sorted(allowed)),
            )
        last = self.last_event_at
        if last is not None and event.occurred_at < last:
            raise TransitionRefused(
                f"event dated {event.occurred_at.isoformat()} precedes the last event "
                f"({last.isoformat()})",
                current=current,
                allowed=tuple(sorted(allowed)),
            )
        return evolve(self, events=(*self.events, event))
