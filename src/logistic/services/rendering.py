"""The public JSON shapes of the original design document (a contract with its clients)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from logistic.domain.estimate import WINDOW_CONFIDENCE, Estimate
from logistic.domain.model import Location, Recipient, Shipment, TrackingEvent

# Chinese text travels as UTF-8, not as \u escapes, as the original's clients expect.
# One encoder for every body (as json.dumps keeps one for its defaults): building it
# per call was a sixth of the encoding.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def to_json_bytes(document: object) -> bytes:
    return _ENCODER.encode(document).encode()


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"address": location.address, "location_id": location.id, "title": location.title}


def _detail(
    event: TrackingEvent, locations: Mapping[int, Location], zone: tzinfo
) -> dict[str, Any]:
    local = event.occurred_at.astimezone(zone)
    location = locations.get(event.location_id)
    return {
        "date": local.date().isoformat(),
        "id": event.id,
        "location_id": event.location_id,
        "location_title": location.title if location else None,
        "status": str(event.status),
        "timestamp": local.isoformat(),
    }


def recipient_document(recipient: Recipient) -> dict[str, Any]:
    return {
        "address": recipient.address,
        "id": recipient.id,
        "name": recipient.name,
        "phone": recipient.phone,
    }


def tracking_document(
    shipment: Shipment, locations: Mapping[int, Location], zone: tzinfo, estimate: Estimate
) -> dict[str, Any]:
    """The /query body: the shape of the original's example, plus each detail's timestamp
    and the estimate's window and source."""
    current = shipment.current_location_id
    return {
        "sno": str(shipment.sno),
        "tracking_status": str(shipment.current_status) if shipment.current_status else None,
        "estimated_delivery": estimate.delivery.isoformat(),
        "estimated_delivery_window": {
            "earliest": estimate.earliest.isoformat(),
            "latest": estimate.latest.isoformat(),
            "confidence": WINDOW_CONFIDENCE,
        },
        "estimate_source": estimate.source.value,
        "current_location": _location(locations.get(current) if current is not None else None),
        "details": [_detail(event, locations, zone) for event in shipment.events],
        "recipient": recipient_document(shipment.recipient),
    }


def _fake_detail(sno: int, event: TrackingEvent) -> dict[str, Any]:
    return {
        "location_id": event.location_id,
        "order_sno": sno,
        "tracking_status": str(event.status),
    }


def fake_orders_document(shipments: list[Shipment]) -> dict[str, Any]:
    """The /fake body of the original: each new order with its details and its last status."""
    return {
        "data": [
            {
                "details": [_fake_detail(shipment.sno, event) for event in shipment.events],
                "sno": shipment.sno,
                "tracking_status": (
                    _fake_detail(shipment.sno, shipment.events[-1]) if shipment.events else None
                ),
            }
            for shipment in shipments
        ]
    }
