"""Report figures on memory, SQLite and MariaDB, checked against counts made in Python.

Two data sets: orders made by the fake-history generator (checked at several
"as of" instants), and a handful of hand-made orders around known instants for
the stuck, recent-delivery, on-time and transit edges.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.adapters.memory_reports import MemoryReportFigures
from logistic.adapters.sql.report_figures import SqlReportFigures
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, Shipment, TrackingEvent
from logistic.domain.report import ReportFigures
from logistic.domain.status import Status
from logistic.ports.reports import ReportFigureSource
from logistic.ports.repositories import NewShipment
from tests.integration.sql_backends import WITH_GALERA, Backend, backend_params, open_backend
from tests.reporting import TAIPEI, exact_percentile, generated_orders


@pytest.fixture(params=backend_params(*WITH_GALERA))
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every back end, and a Galera cluster with writes spread over its nodes; empty."""
    yield from open_backend(request.param, request, tmp_path)


SEEDED_AT = datetime(2026, 11, 25, 8, 0, tzinfo=TAIPEI)
STUCK_AFTER = timedelta(hours=72)
# The histogram counts whole minutes, and the figures are rounded to 0.01 h.
TRANSIT_TOLERANCE = 1 / 60 + 0.005
CENTERS = {location.id: location for location in LOGISTICS_CENTERS}


def figure_source(backend: Backend) -> ReportFigureSource:
    if backend.engine is None:
        assert isinstance(backend.shipments, MemoryShipmentRepository)
        return MemoryReportFigures(backend.shipments, backend.locations)
    return SqlReportFigures(backend.engine)


@pytest.fixture
def statements(shipment_backend: Backend) -> Iterator[list[str]]:
    """The SQL statements run on the back end (none for memory)."""
    seen: list[str] = []
    engine = shipment_backend.engine
    if engine is None:
        yield seen
        return

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def counted_in_python(shipments: list[Shipment], as_of: datetime) -> dict[str, Any]:
    orders = [order for order in shipments if order.created_at <= as_of]
    delivered = [
        (order, order.delivered_at)
        for order in orders
        if order.delivered_at is not None and order.delivered_at <= as_of
    ]
    hours = [(at - order.created_at).total_seconds() / 3600 for order, at in delivered]
    on_time = [order for order, at in delivered if at < order.promised_by]
    return {
        "summary": Counter(order.current_status for order in orders),
        "total": len(orders),
        "places": Counter(order.current_location_id for order in orders),
        "stuck": sum(
            1
            for order in orders
            if order.current_status not in (Status.DELIVERED, Status.RETURNED_TO_SENDER)
            and order.last_event_at is not None
            and order.last_event_at < as_of - STUCK_AFTER
        ),
        "recent": sum(1 for _, at in delivered if at > as_of - timedelta(hours=8)),
        "median": exact_percentile(hours, 0.5) if hours else None,
        "p90": exact_percentile(hours, 0.9) if hours else None,
        "on_time": len(on_time) / len(delivered) if delivered else None,
    }


def assert_figures_match(figures: ReportFigures, expected: dict[str, Any]) -> None:
    summary = {status: count for status, count in figures.tracking_summary if count}
    assert summary == expected["summary"]
    assert figures.total_orders == expected["total"]
    assert figures.exceptions == expected["summary"].get(Status.EXCEPTION, 0)
    places = {count.location_id: count.count for count in figures.by_location if count.count}
    assert places == expected["places"]
    assert [count.location_id for count in figures.by_location] == sorted(CENTERS)
    assert figures.stuck.count == expected["stuck"]
    assert figures.stuck.threshold_hours == 72
    assert figures.delivered_last_8h == expected["recent"]
    for name, value in (
        ("median", figures.transit_hours_median),
        ("p90", figures.transit_hours_p90),
    ):
        if expected[name] is None:
            assert value is None
        else:
            assert value == pytest.approx(expected[name], abs=TRANSIT_TOLERANCE), name
    if expected["on_time"] is None:
        assert figures.on_time_rate is None
    else:
        assert figures.on_time_rate == pytest.approx(expected["on_time"], abs=1e-12)


@pytest.mark.parametrize(
    "as_of",
    [
        SEEDED_AT,
        SEEDED_AT - timedelta(days=3, hours=5),
        SEEDED_AT + timedelta(days=4),
        SEEDED_AT - timedelta(days=10),
    ],
    ids=["when-seeded", "three-days-before", "four-days-after", "before-any-order"],
)
def test_generated_orders_are_counted_as_python_counts_them(
    shipment_backend: Backend, statements: list[str], as_of: datetime
) -> None:
    stored = shipment_backend.shipments.add_many(generated_orders(400, seed=11, now=SEEDED_AT))
    statements.clear()

    figures = figure_source(shipment_backend).figures(as_of, STUCK_AFTER)

    assert_figures_match(figures, counted_in_python(stored, as_of))
    assert not any("tracking_events" in statement for statement in statements)


AS_OF = datetime(2026, 11, 25, 0, 0, tzinfo=TAIPEI)


def _order(
    created_at: datetime,
    *steps: tuple[Status, datetime],
    promised_by: datetime | None = None,
    location_id: int = 7,
) -> NewShipment:
    events = (
        TrackingEvent(Status.CREATED, 2, created_at),
        *(TrackingEvent(status, location_id, at) for status, at in steps),
    )
    plan = PlannedShipment(2, location_id, created_at, events)
    return NewShipment(
        Contact("王小明", "0912345678", "臺北市"),
        plan,
        promised_by or created_at + timedelta(days=3),
    )


def _delivered(
    transit: timedelta, late: bool = False, before: timedelta = timedelta(days=1)
) -> NewShipment:
    delivered_at = AS_OF - before
    created_at = delivered_at - transit
    promise = delivered_at + (timedelta(seconds=-1) if late else timedelta(hours=1))
    return _order(
        created_at,
        (Status.IN_TRANSIT, created_at + timedelta(hours=1)),
        (Status.OUT_FOR_DELIVERY, delivered_at - timedelta(hours=1)),
        (Status.DELIVERED, delivered_at),
        promised_by=promise,
    )


def test_figures_at_known_instants(shipment_backend: Backend) -> None:
    hour = timedelta(hours=1)
    shipment_backend.shipments.add_many(
        [
            # stuck: not terminal and quiet for more than 72 hours
            _order(AS_OF - 100 * hour, (Status.IN_TRANSIT, AS_OF - 73 * hour)),
            _order(AS_OF - 100 * hour, (Status.EXCEPTION, AS_OF - 80 * hour)),
            # not stuck: quiet for less, or exactly 72 hours, or finished
            _order(AS_OF - 100 * hour, (Status.IN_TRANSIT, AS_OF - 71 * hour)),
            _order(AS_OF - 100 * hour, (Status.IN_TRANSIT, AS_OF - 72 * hour)),
            _order(
                AS_OF - 100 * hour,
                (Status.IN_TRANSIT, AS_OF - 95 * hour),
                (Status.RETURNED_TO_SENDER, AS_OF - 90 * hour),
            ),
            # delivered: transit 10 h, 20 h and 30 h; the 30 h one late
            _delivered(10 * hour),
            _delivered(20 * hour, before=7 * hour),
            _delivered(30 * hour, late=True, before=8 * hour),
            # created after the slot: left out entirely
            _order(AS_OF + hour, (Status.IN_TRANSIT, AS_OF + 2 * hour), location_id=9),
            # delivered after the slot: counted as Delivered (its current status) but
            # not among the recent deliveries, the transit times or the on-time rate
            _order(
                AS_OF - 5 * hour,
                (Status.OUT_FOR_DELIVERY, AS_OF - hour),
                (Status.DELIVERED, AS_OF + hour),
            ),
        ]
    )

    figures = figure_source(shipment_backend).figures(AS_OF, STUCK_AFTER)

    assert figures.total_orders == 9
    assert dict(figures.tracking_summary) == {
        **dict.fromkeys(Status, 0),
        Status.IN_TRANSIT: 3,
        Status.EXCEPTION: 1,
        Status.RETURNED_TO_SENDER: 1,
        Status.DELIVERED: 4,
    }
    assert figures.stuck.count == 2
    assert figures.delivered_last_8h == 1  # delivered 7 h before; 8 h before is outside
    assert figures.transit_hours_median == pytest.approx(20, abs=TRANSIT_TOLERANCE)
    assert figures.transit_hours_p90 == pytest.approx(28, abs=TRANSIT_TOLERANCE)
    assert figures.on_time_rate == pytest.approx(2 / 3)
    assert {count.location_id: count.count for count in figures.by_location}[9] == 0


def test_an_empty_store_has_zero_counts_and_no_percentiles(shipment_backend: Backend) -> None:
    figures = figure_source(shipment_backend).figures(AS_OF, STUCK_AFTER)

    assert figures.total_orders == 0
    assert figures.transit_hours_median is None
    assert figures.on_time_rate is None
    assert len(figures.by_location) == len(LOGISTICS_CENTERS)


def test_instants_in_any_zone_give_the_same_figures(shipment_backend: Backend) -> None:
    shipment_backend.shipments.add_many(generated_orders(50, seed=3, now=SEEDED_AT))
    source = figure_source(shipment_backend)

    assert source.figures(SEEDED_AT, STUCK_AFTER) == source.figures(
        SEEDED_AT.astimezone(UTC), STUCK_AFTER
    )
