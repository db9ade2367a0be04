"""Recording a scan: the lifecycle decides, the repository appends atomically, the cache follows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from attrs import frozen

from logistic.domain.errors import InvalidInput, ShipmentNotFound
from logistic.domain.model import Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.clock import Clock
from logistic.ports.repositories import EventClaim, ShipmentRepository
from logistic.services.locations import Locations
from logistic.services.tracking import Tracking, View

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
    ) -> None:
        self._shipments = shipments
        self._locations = locations
        self._tracking = tracking
        self._clock = clock

    def record(self, sno: int, scan: Scan, claim: str | None = None) -> Recorded:
        """Append `scan` to the shipment's history, then replace its cached bodies.

        ShipmentNotFound, LocationNotFound, TransitionRefused (the lifecycle or the
        date refuses it) or ConcurrentUpdate (another writer appended first): then
        nothing is written.

        A `claim` (from Idempotency.run) is stored with the event. When an event was
        recorded under it already, by a request that died before its answer was
        kept, nothing is appended: the shipment as it stands now is the answer.
        """
        if claim is not None and self._shipments.claimed(claim):
            return self._recorded_before(sno)
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
        updated = self._shipments.append_event(
            sno,
            event,
            expected_events=len(shipment.events),
            claim=None if claim is None else EventClaim(claim, now),
        )
        return Recorded(updated, self._tracking.refresh(updated))

    def _recorded_before(self, sno: int) -> Recorded:
        shipment = self._shipments.get(sno)
        if shipment is None:
            raise ShipmentNotFound(sno)
        # The request that recorded it may have died before its write-through.
        return Recorded(shipment, self._tracking.refresh(shipment))
