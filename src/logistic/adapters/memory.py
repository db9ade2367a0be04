"""In-memory implementations of the ports, for tests and for users of the library."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from attrs import evolve

from logistic.domain.errors import (
    ConcurrentUpdate,
    IdempotencyConflict,
    IdempotencyKeyReused,
    ShipmentNotFound,
)
from logistic.domain.model import Contact, Location, Recipient, Shipment, TrackingEvent
from logistic.ports.api_keys import StoredKey
from logistic.ports.clock import Clock
from logistic.ports.idempotency import Answer, WriteClaim
from logistic.ports.rate_limiter import Window
from logistic.ports.repositories import Decide, Locked, MessagesFor, NewShipment
from logistic.ports.webhook_outbox import WebhookOutbox


class MemoryShipmentRepository:
    """Shipments in a dict; the webhook messages of their changes go to `outbox`."""

    def __init__(self, outbox: WebhookOutbox | None = None) -> None:
        self._outbox = outbox
        self._shipments: dict[int, Shipment] = {}
        self._next_sno = 1
        self._next_recipient = 1
        self._next_event = 1
        self._claims: dict[str, WriteClaim] = {}
        self._lock = threading.Lock()

    def get(self, sno: int) -> Shipment | None:
        return self._shipments.get(sno)

    def get_many(self, snos: Sequence[int]) -> dict[int, Shipment]:
        found = {sno: self._shipments.get(sno) for sno in snos}
        return {sno: shipment for sno, shipment in found.items() if shipment is not None}

    def add_many(
        self, shipments: Sequence[NewShipment], messages: MessagesFor | None = None
    ) -> list[Shipment]:
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
            if messages is not None and self._outbox is not None:
                self._outbox.add([message for s in stored for message in messages(s)])
            return stored

    def add_in_bulk(self, shipments: Sequence[NewShipment]) -> range:
        stored = self.add_many(shipments)
        return range(stored[0].sno, stored[-1].sno + 1) if stored else range(0)

    def append_event(
        self,
        sno: int,
        event: TrackingEvent,
        expected_events: int,
        claim: WriteClaim | None = None,
        messages: MessagesFor | None = None,
    ) -> Shipment:
        with self._lock:
            shipment = self._shipments.get(sno)
            if shipment is None:
                raise ShipmentNotFound(sno)
            if len(shipment.events) != expected_events:
                raise ConcurrentUpdate(f"shipment {sno} changed while the event was recorded")
            if claim is not None:
                if claim.key in self._claims:
                    raise ConcurrentUpdate("an event was recorded under this Idempotency-Key")
                self._claims[claim.key] = claim
            updated = evolve(shipment, events=(*shipment.events, self._numbered(event)))
            self._shipments[sno] = updated
            if messages is not None and self._outbox is not None:
                self._outbox.add(messages(updated))
            return updated

    def append_events(
        self,
        snos: Collection[int],
        keys: Collection[str],
        decide: Decide,
        messages: MessagesFor | None = None,
    ) -> dict[int, Shipment]:
        with self._lock:
            found = {sno: self._shipments[sno] for sno in snos if sno in self._shipments}
            claims = {key: self._claims[key] for key in keys if key in self._claims}
            plan = decide(Locked(found, claims))
            updated = {}
            for sno in sorted(plan):
                if sno not in found or not plan[sno]:
                    continue
                numbered = tuple(self._numbered(new.event) for new in plan[sno])
                updated[sno] = evolve(found[sno], events=(*found[sno].events, *numbered))
                if messages is not None and self._outbox is not None:
                    for count in range(len(found[sno].events) + 1, len(updated[sno].events) + 1):
                        self._outbox.add(
                            messages(evolve(updated[sno], events=updated[sno].events[:count]))
                        )
                for new in plan[sno]:
                    if new.claim is not None:
                        self._claims[new.claim.key] = new.claim
            self._shipments.update(updated)
            return updated

    def claim(self, key: str) -> WriteClaim | None:
        return self._claims.get(key)

    def forget_claims(self, before: datetime) -> int:
        with self._lock:
            old = [key for key, claim in self._claims.items() if claim.at < before]
            for key in old:
                del self._claims[key]
            return len(old)

    def event_count(self, sno: int) -> int | None:
        shipment = self._shipments.get(sno)
        return None if shipment is None else len(shipment.events)

    def event_counts(self, snos: Sequence[int]) -> dict[int, int]:
        found = {sno: self._shipments.get(sno) for sno in snos}
        return {sno: len(shipment.events) for sno, shipment in found.items() if shipment}

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

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get(key) for key in keys]

    def set_many(self, entries: Sequence[tuple[str, bytes, timedelta]]) -> None:
        for key, value, ttl in entries:
            self.set(key, value, ttl)

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

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        raise self._error()

    def set_many(self, entries: Sequence[tuple[str, bytes, timedelta]]) -> None:
        raise self._error()


class MemoryApiKeys:
    def __init__(self, keys: Sequence[StoredKey] = ()) -> None:
        self._keys = list(keys)

    def all(self) -> tuple[StoredKey, ...]:
        return tuple(self._keys)

    def add(self, key: StoredKey) -> None:
        self._keys.append(key)


class MemoryRateLimiter:
    """Thread-safe counters in this process: the embedded default runs one process."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: Window, amount: int = 1) -> int:
        with self._lock:
            index, count = self._counts.get(key, (window.index, 0))
            count = count + amount if index == window.index else amount
            if key not in self._counts and len(self._counts) >= self._max_keys:
                self._forget_other_windows(window)
            self._counts[key] = (window.index, count)
            return count

    def _forget_other_windows(self, window: Window) -> None:
        stale = [key for key, (index, _) in self._counts.items() if index != window.index]
        for key in stale or list(self._counts)[: self._max_keys // 10 + 1]:
            del self._counts[key]


class MemoryIdempotencyKeys:
    def __init__(self) -> None:
        # key -> (fingerprint, claimed at, answer once completed)
        self._claims: dict[str, tuple[str, datetime, Answer | None]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
        with self._lock:
            held = self._claims.get(key)
            if held is not None:
                held_fingerprint, claimed_at, answer = held
                if held_fingerprint != fingerprint:
                    raise IdempotencyKeyReused("this Idempotency-Key was sent with another request")
                if answer is not None:
                    return answer
                if now < claimed_at + lease:
                    raise IdempotencyConflict("a request with this Idempotency-Key is in progress")
            self._claims[key] = (fingerprint, now, None)
            return None

    def complete(self, key: str, answer: Answer) -> None:
        with self._lock:
            held = self._claims.get(key)
            if held is not None:
                self._claims[key] = (held[0], held[1], answer)

    def release(self, key: str) -> None:
        with self._lock:
            held = self._claims.get(key)
            if held is not None and held[2] is None:
                del self._claims[key]

    def purge(self, before: datetime) -> int:
        with self._lock:
            old = [key for key, (_, claimed_at, _) in self._claims.items() if claimed_at < before]
            for key in old:
                del self._claims[key]
            return len(old)


# A handful of plausible recipients: enough variety for tests and demos, and no
# child process or Faker import, which the Faker-made pools need.
_NAMES = ("陳怡君", "林志明", "黃淑芬", "張家豪", "李美玲", "王建宏", "吳佩珊", "劉俊傑")
_ADDRESSES = (
    "臺北市中正區重慶南路一段122號",
    "新北市板橋區縣民大道二段7號",
    "臺中市西屯區臺灣大道三段99號",
    "臺南市安平區永華路二段6號",
    "高雄市苓雅區四維三路2號",
    "花蓮縣花蓮市府前路17號",
)


class MemoryContacts:
    """Contacts drawn from a short built-in list, the same for the same `rng` state."""

    def contact(self, rng: random.Random) -> Contact:
        return Contact(
            name=rng.choice(_NAMES),
            phone=f"09{rng.randrange(10**8):08d}",
            address=rng.choice(_ADDRESSES),
        )


class MemoryCacheGenerations:
    """The CacheGenerations port in this process (for tests and library users)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0

    def current(self) -> int:
        return self._generation

    def advance(self) -> None:
        with self._lock:
            self._generation += 1
