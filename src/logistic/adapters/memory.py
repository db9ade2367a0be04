"""In-memory implementations of the ports, for tests and for users of the library."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from logistic.domain.errors import ConcurrentUpdate, ShipmentNotFound
from logistic.domain.model import Location, Recipient, Shipment, TrackingEvent
from logistic.ports.clock import Clock
from logistic.ports.repositories import NewShipment


class MemoryShipmentRepository:
    def __init__(self) -> None:
        self._shipments: dict[int, Shipment] = {}
        self._next_sno = 1
        self._next_recipient = 1
        self._next_event = 1
        self._lock = threading.Lock()

    def get(self, sno: int) -> Shipment | None:
        return self._shipments.get(sno)

    def add_many(self, shipments: Sequence[NewShipment]) -> list[Shipment]:
        with self._lock:
            stored = []
            for new in shipments:
                recipient = Recipient.from_contact(self._next_recipient, new.recipient)
                self._next_recipient += 1
                events = tuple(self._numbered(event) for event in new.plan.events)
                shipment = Shipment(
                    sno=self._next_sno,
                    recipient=recipient,
                    origin_id=new.plan.origin_id,
                    destination_id=new.plan.destination_id,
                    created_at=new.plan.created_at,
                    promised_by=new.promised_by,
                    events=events,
                )
                self._next_sno += 1
                stored.append(shipment)
            self._shipments.update((shipment.sno, shipment) for shipment in stored)
            return stored

    def append_event(self, sno: int, event: TrackingEvent, expected_events: int) -> Shipment:
        with self._lock:
            shipment = self._shipments.get(sno)
            if shipment is None:
                raise ShipmentNotFound(sno)
            if len(shipment.events) != expected_events:
                raise ConcurrentUpdate(f"shipment {sno} changed while the event was recorded")
            updated = evolve(shipment, events=(*shipment.events, self._numbered(event)))
            self._shipments[sno] = updated
            return updated

    def count(self) -> int:
        return len(self._shipments)

    def all(self) -> list[Shipment]:
        return list(self._shipments.values())

    def _numbered(self, event: TrackingEvent) -> TrackingEvent:
        numbered = evolve(event, id=self._next_event)
        self._next_event += 1
        return numbered


class MemoryLocationCatalog:
    def __init__(self, locations: Sequence[Location] = ()) -> None:
        self._locations = {location.id: location for location in locations}

    def all(self) -> tuple[Location, ...]:
        return tuple(self._locations[key] for key in sorted(self._locations))

    def sync(self, locations: Sequence[Location]) -> None:
        self._locations.update((location.id, location) for location in locations)


class MemoryCache:
    """A thread-safe cache in this process; the embedded default's cache."""

    def __init__(self, clock: Clock, max_entries: int = 100_000) -> None:
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[bytes, datetime]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, expires_at = entry
            if self._clock.now() >= expires_at:
                del self._entries[key]
                return None
            return value

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries and key not in self._entries:
                self._evict_one()
            self._entries[key] = (value, self._clock.now() + ttl)

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def _evict_one(self) -> None:
        # dicts keep insertion order: drop the oldest entry.
        del self._entries[next(iter(self._entries))]


class FailingCache:
    """A cache whose back end is down: every call raises CacheUnavailable."""

    def __init__(self, error: Callable[[], Exception]) -> None:
        self._error = error

    def get(self, key: str) -> bytes | None:
        raise self._error()

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        raise self._error()

    def delete(self, *keys: str) -> None:
        raise self._error()
