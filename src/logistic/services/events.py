"""Recording a scan: the lifecycle decides, the repository appends atomically, the cache follows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from logistic.domain.errors import (
    ConcurrentUpdate,
    IdempotencyKeyReused,
    InvalidInput,
    ShipmentNotFound,
)
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.domain.webhook import STATUS_CHANGED
from logistic.ports.clock import Clock
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import ShipmentRepository
from logistic.services.locations import Locations
from logistic.services.metering import EVENTS_RECORDED, SILENT, Meter
from logistic.services.tracking import Tracking, View
from logistic.services.webhook_subscribers import Subscribers

# A scanner's clock may run a little ahead of ours; further ahead is a mistake.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@frozen
class Scan:
    """What a courier reports: a status at a logistics center, now or at a given moment."""

    status: Status
    location_id: int
    occurred_at: datetime | None = None
    note: str | None = None


@frozen
class Recorded:
    shipment: Shipment
    bodies: Mapping[View, bytes]


class Recording:
    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        tracking: Tracking,
        clock: Clock,
        subscribers: Subscribers | None = None,
        meter: Meter = SILENT,
    ) -> None:
        self._meter = meter
        self._shipments = shipments
        self._locations = locations
        self._tracking = tracking
        self._clock = clock
        self._subscribers = subscribers

    def record(self, sno: int, scan: Scan, claim: WriteClaim | None = None) -> Recorded:
        """Append `scan` to the shipment's history, then replace its cached bodies.

        ShipmentNotFound, LocationNotFound, TransitionRefused (the lifecycle or the
        date refuses it) or ConcurrentUpdate (another writer appended first): then
        nothing is written.

        A `claim` (from Idempotency.run) is stored with the event. When an event was
        recorded under its key already, by a request that died or failed before its
        answer was kept, nothing is appended: the same request is answered with the
        shipment as it stands now, another is refused (IdempotencyKeyReused).
        """
        if claim is not None:
            replayed = self._recorded_before(sno, claim)
            if replayed is not None:
                return replayed
        shipment = self._shipments.get(sno)
        if shipment is None:
            raise ShipmentNotFound(sno)
        self._locations.get(scan.location_id)
        now = self._clock.now()
        occurred_at = scan.occurred_at or now
        if occurred_at > now + MAX_CLOCK_SKEW:
            raise InvalidInput(f"occurred_at {occurred_at.isoformat()} is in the future")
        event = TrackingEvent(scan.status, scan.location_id, occurred_at, note=scan.note)
        shipment.record(event)
        # The webhook messages are written by the event's own transaction.
        messages = None
        if self._subscribers is not None:
            messages = self._subscribers.messages_for(STATUS_CHANGED)
        try:
            updated = self._shipments.append_event(
                sno, event, expected_events=len(shipment.events), claim=claim, messages=messages
            )
        except ConcurrentUpdate:
            # The request this one retries may have been slow, not dead, and just
            # committed its event under the key.
            replayed = None if claim is None else self._recorded_before(sno, claim)
            if replayed is None:
                raise
            return replayed
        self._meter.add(EVENTS_RECORDED, event.status.value)
        return Recorded(updated, self._tracking.refresh(updated))

    def _recorded_before(self, sno: int, claim: WriteClaim) -> Recorded | None:
        """The answer to a request whose event was recorded under `claim`'s key already."""
        stored = self._shipments.claim(claim.key)
        if stored is None:
            return None
        if stored.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReused("this Idempotency-Key was sent with another request")
        shipment = self._shipments.get(sno)
        if shipment is None:
            raise ShipmentNotFound(sno)
        # The request that recorded it may have died before its write-through.
        return Recorded(shipment, self._tracking.refresh(shipment))
