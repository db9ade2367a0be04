"""Report figures over the shipments of a MemoryShipmentRepository (tests, library users)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.domain.model import Shipment
from logistic.domain.report import LocationCount, ReportFigures, StuckShipments
from logistic.domain.transit import TransitHistogram
from logistic.ports.reports import RECENT_DELIVERIES
from logistic.ports.repositories import LocationCatalog


class MemoryReportFigures:
    """The ReportFigureSource promise kept by counting the stored shipments in Python."""

    def __init__(self, shipments: MemoryShipmentRepository, locations: LocationCatalog) -> None:
        self._shipments = shipments
        self._locations = locations

    def figures(self, as_of: datetime, stuck_after: timedelta) -> ReportFigures:
        orders = [order for order in self._shipments.all() if order.created_at <= as_of]
        by_location = {location.id: 0 for location in self._locations.all()}
        for order in orders:
            if order.current_location_id is not None:
                by_location[order.current_location_id] = (
                    by_location.get(order.current_location_id, 0) + 1
                )
        titles = {location.id: location.title for location in self._locations.all()}
        deliveries = [
            (order, delivered_at)
            for order in orders
            if (delivered_at := order.delivered_at) is not None and delivered_at <= as_of
        ]
        histogram = TransitHistogram(
            Counter((at - order.created_at) // timedelta(minutes=1) for order, at in deliveries)
        )
        on_time = sum(1 for order, at in deliveries if at < order.promised_by)
        return ReportFigures(
            tracking_summary=Counter(
                order.current_status for order in orders if order.current_status is not None
            ),
            total_orders=len(orders),
            by_location=[
                LocationCount(location_id, titles.get(location_id, str(location_id)), count)
                for location_id, count in by_location.items()
            ],
            stuck=StuckShipments(
                sum(1 for order in orders if _stuck(order, as_of - stuck_after)),
                stuck_after // timedelta(hours=1),
            ),
            delivered_last_8h=sum(1 for _, at in deliveries if at > as_of - RECENT_DELIVERIES),
            transit_hours_median=histogram.percentile_hours(0.5),
            transit_hours_p90=histogram.percentile_hours(0.9),
            on_time_rate=on_time / len(deliveries) if deliveries else None,
        )


def _stuck(order: Shipment, quiet_since: datetime) -> bool:
    status, last = order.current_status, order.last_event_at
    return status is not None and not status.is_terminal and last is not None and last < quiet_since
