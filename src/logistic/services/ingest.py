"""Scans in bulk (POST /events, `logistic ingest`): many shipments' events in one write.

Each item is checked as a single scan is (services/events.py, the lifecycle), but
all of them against the shipments as they stand once locked, and written in one
transaction (ShipmentRepository.append_events); then one cache delete drops the
bodies of every shipment that moved.

Items of one shipment are applied in `occurred_at` order (the order of the request
for equal times). A refused item stops its shipment: the items of that shipment
after it are not applied (409), since each was sent as what follows it. The other
shipments' items are not concerned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from attrs import frozen

from logistic.domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    ShipmentNotFound,
    TransitionRefused,
)
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.domain.webhook import STATUS_CHANGED
from logistic.ports.clock import Clock
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import Locked, NewEvent, ShipmentRepository
from logistic.services.events import MAX_CLOCK_SKEW, Scan
from logistic.services.idempotency import write_claim
from logistic.services.locations import Locations
from logistic.services.metering import EVENTS_RECORDED, SILENT, Meter
from logistic.services.tracking import Tracking
from logistic.services.webhook_subscribers import Subscribers

MAX_ITEMS = 1000


@frozen
class Item:
    """One scan of a batch: `scan` for shipment `sno`, and the key the client gave it."""

    sno: int
    scan: Scan
    key: str | None = None

    def request(self) -> str:
        """The item as its key's fingerprint covers it."""
        scan = self.scan
        moment = "" if scan.occurred_at is None else scan.occurred_at.isoformat()
        note = "" if scan.note is None else scan.note
        return f"POST /events item\n{self.sno}\n{scan.status}\n{scan.location_id}\n{moment}\n{note}"


@frozen
class Outcome:
    """What became of one item: applied (`error` None) or refused by `error`.

    `status` is the status the item recorded (applied, or recorded before under its
    key: `replayed`); None when refused.
    """

    sno: int
    status: Status | None = None
    error: DomainError | None = None
    replayed: bool = False


@frozen
class _Entry:
    index: int
    sno: int
    event: TrackingEvent
    claim: WriteClaim | None
    problem: DomainError | None


class Ingest:
    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        tracking: Tracking,
        clock: Clock,
        meter: Meter = SILENT,
        subscribers: Subscribers | None = None,
    ) -> None:
        self._subscribers = subscribers
        self._shipments = shipments
        self._locations = locations
        self._tracking = tracking
        self._clock = clock
        self._meter = meter

    def apply(self, caller: str, items: Sequence[Item]) -> list[Outcome]:
        """The outcome of each item, in the order given, once those applied are committed.

        Item keys are the caller's own, as Idempotency-Key is: an item whose key was
        recorded with the same item before is not applied again (`replayed`); with
        another item, it is refused (IdempotencyKeyReused). StorageUnavailable: none
        of the items was applied.
        """
        if not 1 <= len(items) <= MAX_ITEMS:
            raise InvalidInput(f"a batch holds 1 to {MAX_ITEMS} events")
        now = self._clock.now()
        entries = self._entries(caller, items, now)
        groups: dict[int, list[_Entry]] = {}
        for entry in sorted(entries, key=lambda e: (e.event.occurred_at, e.index)):
            groups.setdefault(entry.sno, []).append(entry)
        decided: dict[int, Outcome] = {}

        def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
            decided.clear()
            return {
                sno: _decided(group, locked.shipments.get(sno), locked.claims, decided)
                for sno, group in groups.items()
            }

        keys = [entry.claim.key for entry in entries if entry.claim is not None]
        # The webhook messages are written by the batch's own transaction.
        messages = None
        if self._subscribers is not None:
            messages = self._subscribers.messages_for(STATUS_CHANGED)
        updated = self._shipments.append_events(list(groups), keys, decide, messages)
        if updated:
            self._tracking.forget(updated)
        outcomes = [decided[index] for index in range(len(items))]
        for outcome in outcomes:
            if outcome.status is not None and outcome.error is None and not outcome.replayed:
                self._meter.add(EVENTS_RECORDED, outcome.status.value)
        return outcomes

    def _entries(self, caller: str, items: Sequence[Item], now: datetime) -> list[_Entry]:
        entries = []
        keys: dict[str, int] = {}
        for index, item in enumerate(items):
            scan = item.scan
            occurred_at = scan.occurred_at or now
            event = TrackingEvent(scan.status, scan.location_id, occurred_at, note=scan.note)
            claim = None
            problem: DomainError | None = None
            try:
                self._locations.get(scan.location_id)
                if occurred_at > now + MAX_CLOCK_SKEW:
                    raise InvalidInput(f"occurred_at {occurred_at.isoformat()} is in the future")
                if item.key is not None:
                    claim = write_claim(caller, item.key, item.request(), now)
                    first = keys.setdefault(claim.key, index)
                    if first != index:
                        raise InvalidInput(f"idempotency_key is the key of item {first} too")
            except DomainError as error:
                problem = error
            entries.append(_Entry(index, item.sno, event, claim, problem))
        return entries


def _decided(
    group: Sequence[_Entry],
    shipment: Shipment | None,
    claims: Mapping[str, WriteClaim],
    decided: dict[int, Outcome],
) -> list[NewEvent]:
    """The events to append of one shipment's items (in order); each item's outcome
    goes into `decided`."""
    appended: list[NewEvent] = []
    stopped_by: int | None = None
    for entry in group:
        if shipment is None:
            decided[entry.index] = Outcome(entry.sno, error=ShipmentNotFound(entry.sno))
            continue
        if stopped_by is not None:
            allowed = tuple(sorted(shipment.allowed_next()))
            error: DomainError = TransitionRefused(
                f"not applied: item {stopped_by} of shipment {entry.sno}, before this one,"
                " was refused",
                current=shipment.current_status,
                allowed=allowed,
            )
            decided[entry.index] = Outcome(entry.sno, error=error)
            continue
        try:
            if entry.problem is not None:
                raise entry.problem
            stored = None if entry.claim is None else claims.get(entry.claim.key)
            if stored is not None and entry.claim is not None:
                if stored.fingerprint != entry.claim.fingerprint:
                    raise IdempotencyKeyReused("this idempotency_key was sent with another event")
                decided[entry.index] = Outcome(entry.sno, entry.event.status, replayed=True)
                continue
            shipment = shipment.record(entry.event)
        except DomainError as refusal:
            decided[entry.index] = Outcome(entry.sno, error=refusal)
            stopped_by = entry.index
            continue
        appended.append(NewEvent(entry.event, entry.claim))
        decided[entry.index] = Outcome(entry.sno, entry.event.status)
    return appended
