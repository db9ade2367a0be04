"""The lane estimates of a process: learned at each slot, kept in memory, shown in /query
and on the page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from logistic.adapters.clock import FixedClock
from logistic.adapters.memory import MemoryShipmentRepository
from logistic.adapters.memory_lanes import MemoryLaneHistory
from logistic.container import Container
from logistic.domain.errors import StorageUnavailable
from logistic.domain.estimate import EstimateSource
from logistic.domain.history import PlannedShipment
from logistic.domain.lanes import LaneStats
from logistic.domain.language import Language
from logistic.domain.model import Contact, Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.entrypoints.http.wording import WORDINGS
from logistic.entrypoints.scheduler import ReportScheduler
from logistic.ports.repositories import NewShipment
from logistic.services.lane_estimates import RELOAD_AFTER, LaneEstimates
from tests.reporting import TAIPEI, reports_service
from tests.unit.conftest import NOW
from tests.unit.scans import DESTINATION, ORIGIN, shipment_with

HOUR = timedelta(hours=1)
CONTACT = Contact("王小明", "0912345678", "臺北市")


def _delivered(created_at: datetime, transit: timedelta) -> NewShipment:
    events = (
        TrackingEvent(Status.CREATED, ORIGIN, created_at),
        TrackingEvent(Status.PACKAGE_RECEIVED, ORIGIN, created_at + HOUR),
        TrackingEvent(Status.IN_TRANSIT, DESTINATION, created_at + 2 * HOUR),
        TrackingEvent(Status.OUT_FOR_DELIVERY, DESTINATION, created_at + transit - HOUR),
        TrackingEvent(Status.DELIVERED, DESTINATION, created_at + transit),
    )
    plan = PlannedShipment(ORIGIN, DESTINATION, created_at, events)
    return NewShipment(CONTACT, plan, created_at + 4 * 24 * HOUR)


def _busy_lane(shipments: MemoryShipmentRepository, count: int, now: datetime) -> None:
    """`count` deliveries on ORIGIN → DESTINATION, taking 10, 12, 14... hours."""
    shipments.add_many(
        [
            _delivered(now - 20 * 24 * HOUR + index * HOUR, (10 + 2 * index) * HOUR)
            for index in range(count)
        ]
    )


def _shipment(created_at: datetime) -> Shipment:
    recipient = Recipient(1, "王小明", "0912345678", "臺北市")
    events = (TrackingEvent(Status.CREATED, ORIGIN, created_at),)
    return Shipment(1, recipient, ORIGIN, DESTINATION, created_at, created_at + 96 * HOUR, events)


class Failing(MemoryLaneHistory):
    """Its stored stats cannot be read while `down`."""

    down = False

    def stored(self) -> tuple[LaneStats, ...]:
        if self.down:
            raise StorageUnavailable("reading the lane stats failed (OperationalError)")
        return super().stored()


def test_a_refreshed_lane_gives_its_estimate() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    _busy_lane(shipments, 40, NOW)
    estimates = LaneEstimates(MemoryLaneHistory(shipments), clock, TAIPEI)
    assert estimates.estimate(_shipment(NOW)).source is EstimateSource.RULE

    assert estimates.refresh(NOW) == 1

    made = estimates.estimate(_shipment(NOW))
    assert made.source is EstimateSource.LANE
    # NOW is 12:00 in Taipei; the median transit is about 49.5 h: the 27th at 13:30.
    assert made.delivery == date(2026, 11, 27)


def test_a_lane_under_thirty_deliveries_keeps_the_rule() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    _busy_lane(shipments, 29, NOW)
    estimates = LaneEstimates(MemoryLaneHistory(shipments), clock, TAIPEI)

    estimates.refresh(NOW)

    assert estimates.lane(ORIGIN, DESTINATION) is not None
    assert estimates.estimate(_shipment(NOW)).source is EstimateSource.RULE


def test_another_process_s_refresh_is_seen_after_the_reload_interval() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    _busy_lane(shipments, 40, NOW)
    lanes = MemoryLaneHistory(shipments)
    reader = LaneEstimates(lanes, clock, TAIPEI)
    assert reader.estimate(_shipment(NOW)).source is EstimateSource.RULE

    LaneEstimates(lanes, clock, TAIPEI).refresh(NOW)
    assert reader.estimate(_shipment(NOW)).source is EstimateSource.RULE  # not read yet

    clock.advance(RELOAD_AFTER)
    assert reader.estimate(_shipment(NOW)).source is EstimateSource.LANE


def test_stats_that_cannot_be_read_leave_the_last_ones_in_use() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    _busy_lane(shipments, 40, NOW)
    lanes = Failing(shipments)
    estimates = LaneEstimates(lanes, clock, TAIPEI)
    estimates.refresh(NOW)
    lanes.down = True

    clock.advance(RELOAD_AFTER)

    assert estimates.estimate(_shipment(NOW)).source is EstimateSource.LANE


def test_keep_up_refreshes_once_per_instant() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    _busy_lane(shipments, 40, NOW)
    lanes = MemoryLaneHistory(shipments)
    first, second = LaneEstimates(lanes, clock, TAIPEI), LaneEstimates(lanes, clock, TAIPEI)

    assert first.keep_up(NOW) is True
    assert second.keep_up(NOW) is False  # another process did it
    assert first.keep_up(NOW) is False
    assert second.keep_up(NOW + 8 * HOUR) is True
    assert {each.computed_at for each in lanes.stored()} == {NOW + 8 * HOUR}


def _ticks(scheduler: ReportScheduler, clock: FixedClock, until: datetime) -> None:
    while clock.now() < until:
        scheduler.tick()
        clock.advance(timedelta(minutes=10))


def test_the_scheduler_refreshes_the_lanes_once_at_every_slot() -> None:
    start = datetime(2026, 11, 25, 7, 50, tzinfo=TAIPEI)
    shipments, clock = MemoryShipmentRepository(), FixedClock(start)
    _busy_lane(shipments, 40, start)
    computed: list[datetime] = []

    class Recording(MemoryLaneHistory):
        def replace(self, stats: Sequence[LaneStats]) -> None:
            computed.extend({each.computed_at for each in stats})
            super().replace(stats)

    estimates = LaneEstimates(Recording(shipments), clock, TAIPEI)
    scheduler = ReportScheduler(reports_service(clock), clock, timedelta(hours=8), lanes=estimates)

    _ticks(scheduler, clock, datetime(2026, 11, 25, 16, 30, tzinfo=TAIPEI))

    assert computed == [
        datetime(2026, 11, 25, 0, 0, tzinfo=TAIPEI),
        datetime(2026, 11, 25, 8, 0, tzinfo=TAIPEI),
        datetime(2026, 11, 25, 16, 0, tzinfo=TAIPEI),
    ]


def test_a_failed_refresh_rests_then_is_tried_again() -> None:
    start = datetime(2026, 11, 25, 8, 1, tzinfo=TAIPEI)
    shipments, clock = MemoryShipmentRepository(), FixedClock(start)
    _busy_lane(shipments, 40, start)
    lanes = Failing(shipments)
    lanes.down = True
    estimates = LaneEstimates(lanes, clock, TAIPEI)
    scheduler = ReportScheduler(reports_service(clock), clock, timedelta(hours=8), lanes=estimates)

    scheduler.tick()
    lanes.down = False
    scheduler.tick()
    assert lanes.stored() == ()  # resting

    clock.advance(timedelta(minutes=5))
    scheduler.tick()
    assert [each.computed_at for each in lanes.stored()] == [
        datetime(2026, 11, 25, 8, 0, tzinfo=TAIPEI)
    ]


@pytest.fixture
def busy(container: Container) -> Container:
    repository = container.shipments()
    assert isinstance(repository, MemoryShipmentRepository)
    _busy_lane(repository, 40, NOW)
    container.lane_estimates().refresh(NOW)
    return container


def test_query_shows_the_lane_estimate_and_its_window(client: FlaskClient, busy: Container) -> None:
    sno = shipment_with(busy, [Status.CREATED, Status.PACKAGE_RECEIVED])
    stats = busy.lane_estimates().lane(ORIGIN, DESTINATION)
    assert stats is not None

    body = client.get(f"/query?sno={sno}").get_json()

    created = NOW - 3 * HOUR
    assert body["estimate_source"] == "lane"
    assert body["estimated_delivery"] == (
        (created + timedelta(hours=stats.p50_hours)).astimezone(TAIPEI).date().isoformat()
    )
    window = body["estimated_delivery_window"]
    assert window["confidence"] == 0.9
    assert window["earliest"] < body["estimated_delivery"] < window["latest"]


def test_a_delivered_parcel_shows_its_delivery_date_everywhere(
    client: FlaskClient, busy: Container
) -> None:
    sno = shipment_with(
        busy,
        [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY,
         Status.DELIVERED],
    )  # fmt: skip

    body = client.get(f"/query?sno={sno}").get_json()

    day = (NOW - HOUR).astimezone(TAIPEI).date().isoformat()
    assert body["estimated_delivery"] == day
    assert body["estimated_delivery_window"] == {"earliest": day, "latest": day, "confidence": 0.9}
    assert body["estimate_source"] == "lane"


def test_the_tracking_page_shows_the_window_in_words(client: FlaskClient, busy: Container) -> None:
    sno = shipment_with(busy, [Status.CREATED, Status.PACKAGE_RECEIVED])
    body = client.get(f"/query?sno={sno}").get_json()
    window = body["estimated_delivery_window"]
    first, last = (date.fromisoformat(window[end]) for end in ("earliest", "latest"))
    assert first.month == last.month == 11

    english = client.get(f"/track/{sno}", headers={"Accept-Language": "en"}).text
    chinese = client.get(f"/track/{sno}").text

    assert f"arrives {first.day}–{last.day} November, nine times in ten" in english
    assert f"十次有九次在11月{first.day}日至{last.day}日間送達" in chinese


@pytest.mark.parametrize(
    ("first", "last", "english", "chinese"),
    [
        (date(2026, 12, 9), date(2026, 12, 11), "9–11 December", "12月9日至11日"),
        (date(2026, 11, 30), date(2026, 12, 2), "30 November – 2 December", "11月30日至12月2日"),
    ],
)
def test_a_span_of_days_is_written_in_each_language(
    first: date, last: date, english: str, chinese: str
) -> None:
    assert WORDINGS[Language.EN].days(first, last) == english
    assert WORDINGS[Language.ZH_HANT].days(first, last) == chinese


def test_with_nothing_delivered_keep_up_computes_once_per_instant() -> None:
    shipments, clock = MemoryShipmentRepository(), FixedClock(NOW)
    estimates = LaneEstimates(MemoryLaneHistory(shipments), clock, TAIPEI)

    assert estimates.keep_up(NOW) is True
    assert estimates.keep_up(NOW) is False  # not once a tick while no lane exists
    assert estimates.keep_up(NOW + 8 * HOUR) is True
