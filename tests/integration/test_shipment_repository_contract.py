"""The promises of ShipmentRepository and LocationCatalog, checked on every back end."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from logistic.adapters.sql.tables import tracking_events
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate, ShipmentNotFound
from logistic.domain.history import PlannedShipment, fake_shipment
from logistic.domain.model import Contact, Location, Region, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import NewShipment
from tests.integration.sql_backends import WITH_GALERA, Backend, backend_params, open_backend


@pytest.fixture(params=backend_params(*WITH_GALERA))
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every back end, and a Galera cluster with writes spread over its nodes; empty."""
    yield from open_backend(request.param, request, tmp_path)


NOW = datetime(2026, 3, 14, 9, 26, 53, 589793, tzinfo=UTC)
TAIPEI = timezone(timedelta(hours=8))


def contact(name: str = "王小明") -> Contact:
    return Contact(name=name, phone="0912-345-678", address="臺北市大安區忠孝東路四段1號")


def new_shipment(*events: TrackingEvent, name: str = "王小明") -> NewShipment:
    plan = PlannedShipment(
        origin_id=2, destination_id=13, created_at=NOW - timedelta(days=2), events=events
    )
    return NewShipment(contact(name), plan, promised_by=NOW + timedelta(days=1))


def created(at: datetime = NOW - timedelta(days=2)) -> TrackingEvent:
    return TrackingEvent(Status.CREATED, 2, at)


def generated(count: int, seed: int) -> list[NewShipment]:
    rng = random.Random(seed)
    return [
        NewShipment(
            contact(f"收件人{index}"),
            fake_shipment(rng, LOGISTICS_CENTERS, NOW),
            promised_by=NOW + timedelta(days=rng.randint(1, 4)),
        )
        for index in range(count)
    ]


def event_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(tracking_events)).scalar_one()
        )


# --- get --------------------------------------------------------------------------------


@pytest.mark.parametrize("sno", [1, 0, -1, 2**63, 10**30])
def test_an_unknown_sno_is_none(shipment_backend: Backend, sno: int) -> None:
    assert shipment_backend.shipments.get(sno) is None


# --- get_many and event_counts ---------------------------------------------------------


def test_many_are_read_as_get_reads_each_unknown_ones_left_out(shipment_backend: Backend) -> None:
    stored = shipment_backend.shipments.add_many(generated(5, seed=7))
    snos = [shipment.sno for shipment in stored]
    wanted = [snos[3], 10**12, snos[0], snos[3], 0, -4, 2**63, snos[4]]

    found = shipment_backend.shipments.get_many(wanted)

    assert found == {
        sno: shipment_backend.shipments.get(sno) for sno in {snos[0], snos[3], snos[4]}
    }
    assert shipment_backend.shipments.get_many([]) == {}
    assert shipment_backend.shipments.get_many([10**12]) == {}


def test_event_counts_of_many_leave_unknown_ones_out(shipment_backend: Backend) -> None:
    first, second = shipment_backend.shipments.add_many(
        [new_shipment(created()), new_shipment(created(), name="陳怡君")]
    )
    shipment_backend.shipments.append_event(
        second.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW), expected_events=1
    )

    counts = shipment_backend.shipments.event_counts([second.sno, 10**12, first.sno, 0])

    assert counts == {first.sno: 1, second.sno: 2}
    assert shipment_backend.shipments.event_counts([]) == {}


# --- add_many ---------------------------------------------------------------------------


def test_a_stored_shipment_reads_back_whole(shipment_backend: Backend) -> None:
    events = (
        TrackingEvent(Status.CREATED, 2, datetime(2026, 3, 12, 17, 0, 0, 1, tzinfo=TAIPEI)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, datetime(2026, 3, 12, 12, 30, tzinfo=UTC)),
        TrackingEvent(
            Status.IN_TRANSIT, 7, datetime(2026, 3, 13, 1, 2, 3, 999999, tzinfo=UTC), note="轉運中"
        ),
    )
    [stored] = shipment_backend.shipments.add_many([new_shipment(*events)])

    found = shipment_backend.shipments.get(stored.sno)

    assert found == stored
    assert found.recipient.name == "王小明"
    assert found.recipient.address == "臺北市大安區忠孝東路四段1號"
    assert found.recipient.phone == "0912-345-678"
    assert (found.origin_id, found.destination_id) == (2, 13)
    assert found.created_at == NOW - timedelta(days=2)
    assert found.promised_by == NOW + timedelta(days=1)
    assert found.statuses == (Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT)
    assert [e.occurred_at for e in found.events] == [e.occurred_at for e in events]
    assert [e.location_id for e in found.events] == [2, 2, 7]
    assert found.events[2].note == "轉運中"
    assert found.current_status is Status.IN_TRANSIT
    assert found.current_location_id == 7


def test_every_datetime_comes_back_aware_in_utc(shipment_backend: Backend) -> None:
    [stored] = shipment_backend.shipments.add_many(
        [new_shipment(created(datetime(2026, 3, 12, 8, 0, 0, 123456, tzinfo=TAIPEI)))]
    )
    found = shipment_backend.shipments.get(stored.sno)

    assert found is not None
    moments = [found.created_at, found.promised_by, found.events[0].occurred_at]
    assert all(moment.tzinfo is UTC for moment in moments)
    assert found.events[0].occurred_at == datetime(2026, 3, 12, 0, 0, 0, 123456, tzinfo=UTC)


def test_a_shipment_may_have_no_history_yet(shipment_backend: Backend) -> None:
    [stored] = shipment_backend.shipments.add_many([new_shipment()])

    found = shipment_backend.shipments.get(stored.sno)

    assert found is not None
    assert found.events == ()
    assert found.current_status is None


def test_snos_are_unique_increasing_and_in_the_order_given(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    first = repository.add_many([new_shipment(created(), name=f"甲{i}") for i in range(3)])
    second = repository.add_many([new_shipment(created(), name=f"乙{i}") for i in range(4)])

    snos = [shipment.sno for shipment in first + second]
    assert snos == sorted(snos)
    assert len(set(snos)) == 7
    assert [s.recipient.name for s in first] == ["甲0", "甲1", "甲2"]
    assert len({shipment.recipient.id for shipment in first + second}) == 7
    assert [repository.get(sno).recipient.name for sno in snos[3:]] == ["乙0", "乙1", "乙2", "乙3"]
    assert repository.count() == 7


def test_generated_histories_read_back_as_stored(shipment_backend: Backend) -> None:
    news = generated(60, seed=20260314)
    stored = shipment_backend.shipments.add_many(news)

    assert shipment_backend.shipments.count() == 60
    for new, shipment in zip(news, stored, strict=True):
        assert shipment.statuses == tuple(event.status for event in new.plan.events)
        assert shipment_backend.shipments.get(shipment.sno) == shipment
    event_ids = [event.id for shipment in stored for event in shipment.events]
    assert None not in event_ids
    assert len(set(event_ids)) == len(event_ids)


def test_adding_nothing_stores_nothing(shipment_backend: Backend) -> None:
    assert shipment_backend.shipments.add_many([]) == []
    assert shipment_backend.shipments.count() == 0


def test_concurrent_batches_never_share_a_sno(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    threads, rounds, batch = 8, 4, 10
    start = threading.Barrier(threads)

    def add(worker: int) -> list[Shipment]:
        start.wait()
        stored = []
        for round_ in range(rounds):
            names = [f"工{worker}-{round_}-{i}" for i in range(batch)]
            stored += repository.add_many([new_shipment(created(), name=n) for n in names])
        return stored

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(add, range(threads)))

    stored = [shipment for result in results for shipment in result]
    assert len({shipment.sno for shipment in stored}) == threads * rounds * batch
    assert len({shipment.recipient.id for shipment in stored}) == threads * rounds * batch
    assert repository.count() == threads * rounds * batch
    for shipment in stored[::7]:
        assert repository.get(shipment.sno) == shipment


# --- add_in_bulk ------------------------------------------------------------------------


def as_planned(shipment: Shipment) -> tuple[Any, ...]:
    """What a caller planned: everything but the ids the repository gives."""
    return (
        (shipment.recipient.name, shipment.recipient.phone, shipment.recipient.address),
        (shipment.origin_id, shipment.destination_id, shipment.created_at, shipment.promised_by),
        tuple((e.status, e.location_id, e.occurred_at, e.note) for e in shipment.events),
    )


def planned(new: NewShipment) -> tuple[Any, ...]:
    plan = new.plan
    return (
        (new.recipient.name, new.recipient.phone, new.recipient.address),
        (plan.origin_id, plan.destination_id, plan.created_at, new.promised_by),
        tuple((e.status, e.location_id, e.occurred_at, e.note) for e in plan.events),
    )


def test_bulk_added_shipments_read_back_as_planned(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    noted = TrackingEvent(
        Status.PACKAGE_RECEIVED, 2, datetime(2026, 3, 12, 18, 0, 0, 1, tzinfo=TAIPEI), note="包裹"
    )
    news = [*generated(50, seed=5), new_shipment(), new_shipment(created(), noted)]

    snos = repository.add_in_bulk(news)

    assert len(snos) == repository.count() == 52
    found = [repository.get(sno) for sno in snos]
    assert [as_planned(shipment) for shipment in found if shipment] == [planned(n) for n in news]
    event_ids = [event.id for shipment in found if shipment for event in shipment.events]
    assert None not in event_ids
    assert len(set(event_ids)) == len(event_ids)


def test_bulk_snos_follow_the_stored_ones(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [first] = repository.add_many([new_shipment(created())])

    snos = repository.add_in_bulk(generated(3, seed=1))
    [last] = repository.add_many([new_shipment(created())])

    assert list(snos) == list(range(first.sno + 1, first.sno + 4))
    assert last.sno > snos[-1]


def test_bulk_adding_nothing_stores_nothing(shipment_backend: Backend) -> None:
    assert list(shipment_backend.shipments.add_in_bulk([])) == []
    assert shipment_backend.shipments.count() == 0


# --- append_event -----------------------------------------------------------------------


def test_an_appended_event_becomes_the_current_status(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    received = TrackingEvent(Status.PACKAGE_RECEIVED, 4, NOW - timedelta(hours=1), note="已收件")

    fresh = repository.append_event(stored.sno, received, expected_events=1)

    assert fresh.statuses == (Status.CREATED, Status.PACKAGE_RECEIVED)
    assert fresh.current_status is Status.PACKAGE_RECEIVED
    assert fresh.current_location_id == 4
    assert fresh.events[-1].id is not None
    assert evolve(fresh.events[-1], id=None) == received
    assert repository.get(stored.sno) == fresh
    assert fresh.recipient == stored.recipient


def test_a_stale_expectation_is_refused_and_writes_nothing(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    received = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW)
    repository.append_event(stored.sno, received, expected_events=1)
    before = repository.get(stored.sno)

    for stale in (1, 0, 3):
        with pytest.raises(ConcurrentUpdate):
            repository.append_event(
                stored.sno, TrackingEvent(Status.IN_TRANSIT, 5, NOW), expected_events=stale
            )

    assert repository.get(stored.sno) == before
    if shipment_backend.engine is not None:
        assert event_count(shipment_backend.engine) == 2


def test_appending_to_an_unknown_sno_is_not_found(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    event = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW)

    for sno in (stored.sno + 1000, 0, 2**64):
        with pytest.raises(ShipmentNotFound):
            repository.append_event(sno, event, expected_events=0)

    assert repository.get(stored.sno) == stored


def test_of_racing_appenders_exactly_one_wins(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    racers = 8
    start = threading.Barrier(racers)

    def append(worker: int) -> str:
        start.wait()
        event = TrackingEvent(Status.PACKAGE_RECEIVED, 1 + worker, NOW)
        try:
            repository.append_event(stored.sno, event, expected_events=1)
        except ConcurrentUpdate:
            return "refused"
        return "appended"

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(append, range(racers)))

    assert sorted(outcomes) == ["appended"] + ["refused"] * (racers - 1)
    assert len(repository.get(stored.sno).events) == 2


# --- claims (Idempotency-Key) ----------------------------------------------------------

KEY, FINGERPRINT = "a" * 64, "f" * 64


def claim(key: str = KEY, at: datetime = NOW) -> WriteClaim:
    return WriteClaim(key, FINGERPRINT, at)


def test_a_claim_is_stored_with_its_event(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    assert repository.claim(KEY) is None

    repository.append_event(
        stored.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW), 1, claim=claim()
    )

    assert repository.claim(KEY) == claim()
    assert repository.claim("b" * 64) is None


def test_a_key_claimed_already_is_refused_and_writes_nothing(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [one, other] = repository.add_many([new_shipment(created()), new_shipment(created())])
    repository.append_event(
        one.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW), 1, claim=claim()
    )
    before = repository.get(one.sno)
    again = WriteClaim(KEY, "e" * 64, NOW + timedelta(seconds=90))

    for sno, expected in ((one.sno, 2), (other.sno, 1)):
        with pytest.raises(ConcurrentUpdate):
            repository.append_event(sno, TrackingEvent(Status.IN_TRANSIT, 5, NOW), expected, again)

    assert repository.get(one.sno) == before
    assert repository.get(other.sno) == other
    assert repository.claim(KEY) == claim()
    if shipment_backend.engine is not None:
        assert event_count(shipment_backend.engine) == 3


def test_an_append_refused_stores_no_claim(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    event = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW)

    with pytest.raises(ConcurrentUpdate):
        repository.append_event(stored.sno, event, expected_events=0, claim=claim())
    with pytest.raises(ShipmentNotFound):
        repository.append_event(stored.sno + 9, event, 1, claim=claim("u" * 64))

    assert repository.claim(KEY) is None
    assert repository.claim("u" * 64) is None
    repository.append_event(stored.sno, event, expected_events=1, claim=claim())
    assert repository.claim(KEY) == claim()


def test_of_racing_appenders_under_one_key_exactly_one_wins(shipment_backend: Backend) -> None:
    repository = shipment_backend.shipments
    shipments = repository.add_many([new_shipment(created()) for _ in range(8)])
    start = threading.Barrier(len(shipments))

    def append(shipment: Shipment) -> str:
        start.wait()
        event = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW)
        try:
            repository.append_event(shipment.sno, event, 1, claim=claim())
        except ConcurrentUpdate:
            return "refused"
        return "appended"

    with ThreadPoolExecutor(len(shipments)) as pool:
        outcomes = list(pool.map(append, shipments))

    assert sorted(outcomes) == ["appended"] + ["refused"] * (len(shipments) - 1)
    lengths = sorted(len(repository.get(shipment.sno).events) for shipment in shipments)
    assert lengths == [1] * (len(shipments) - 1) + [2]


def test_claims_made_before_the_limit_are_forgotten_and_their_events_kept(
    shipment_backend: Backend,
) -> None:
    repository = shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])
    limit = NOW - timedelta(hours=24)
    ages = {"30h": limit - timedelta(hours=6), "limit": limit, "1h": NOW - timedelta(hours=1)}
    for step, (name, at) in enumerate(ages.items(), start=1):
        event = TrackingEvent(Status.PACKAGE_RECEIVED if step == 1 else Status.IN_TRANSIT, 2, NOW)
        repository.append_event(stored.sno, event, step, claim=claim(name, at))

    assert repository.forget_claims(limit) == 1

    assert repository.claim("30h") is None
    assert repository.claim("limit") == claim("limit", limit)
    assert repository.claim("1h") is not None
    assert len(repository.get(stored.sno).events) == 4
    assert repository.forget_claims(limit) == 0


# --- locations --------------------------------------------------------------------------


def test_the_catalog_starts_empty(empty_backend: Backend) -> None:
    assert empty_backend.locations.all() == ()


def test_syncing_locations_is_idempotent(empty_backend: Backend) -> None:
    catalog = empty_backend.locations
    shuffled = list(LOGISTICS_CENTERS)
    random.Random(7).shuffle(shuffled)

    catalog.sync(shuffled)
    catalog.sync(shuffled)

    assert catalog.all() == LOGISTICS_CENTERS
    assert catalog.all()[16].region is Region.OUTLYING_ISLANDS


def test_syncing_updates_changed_centers_and_keeps_the_others(empty_backend: Backend) -> None:
    catalog = empty_backend.locations
    catalog.sync(LOGISTICS_CENTERS[:5])
    moved = evolve(
        LOGISTICS_CENTERS[2], address="桃園市桃園區新址1號", region=Region.OUTLYING_ISLANDS
    )
    added = Location(99, "測試物流中心", "測試市", "測試路1號")

    catalog.sync([moved, added])

    assert catalog.all() == (*LOGISTICS_CENTERS[:2], moved, *LOGISTICS_CENTERS[3:5], added)


# --- text and size -----------------------------------------------------------------


AWKWARD_TEXT = [
    'O\'Brien \\ 100% "quoted" -- ; DROP TABLE orders; /* */',
    "tab\tnew\nline\r\x1a end",
    "\\'",
    "王小明 🚚 ＼",
    "%s %(name)s {} ?",
]


@pytest.mark.parametrize("bulk", [False, True], ids=["add_many", "add_in_bulk"])
def test_any_text_is_stored_as_given(shipment_backend: Backend, bulk: bool) -> None:
    """Quotes, backslashes, % and placeholders, control characters: the SQL bulk insert
    writes values as escaped literals on MariaDB, and none of them may change."""
    new = []
    for index, text in enumerate(AWKWARD_TEXT):
        event = evolve(created(), note=text)
        plan = PlannedShipment(2, 13, event.occurred_at, (event,))
        person = Contact(text, f"09{index:08d}", text)
        new.append(NewShipment(person, plan, promised_by=NOW + timedelta(days=1)))
    repository = shipment_backend.shipments
    snos = list(repository.add_in_bulk(new) if bulk else [s.sno for s in repository.add_many(new)])

    for sno, text in zip(snos, AWKWARD_TEXT, strict=True):
        found = repository.get(sno)
        assert found is not None
        assert (found.recipient.name, found.recipient.address) == (text, text)
        assert found.events[0].note == text


def large_batch() -> list[NewShipment]:
    """Over a million characters of rows: more than MariaDB's bulk insert puts in one
    statement."""
    long_text = "臺北市大安區忠孝東路四段" * 21  # 252 characters, under the 255 allowed
    return [
        NewShipment(
            Contact(f"收件人{index}", "0912345678", long_text),
            PlannedShipment(2, 13, created().occurred_at, (evolve(created(), note=long_text),)),
            promised_by=NOW + timedelta(days=1),
        )
        for index in range(4_000)
    ]


def test_a_large_batch_is_stored_whole(shipment_backend: Backend) -> None:
    new = large_batch()

    snos = shipment_backend.shipments.add_in_bulk(new)

    assert len(snos) == shipment_backend.shipments.count() == 4_000
    for index in (0, 1_234, 3_999):
        found = shipment_backend.shipments.get(snos[index])
        assert found is not None
        assert as_planned(found) == planned(new[index])
