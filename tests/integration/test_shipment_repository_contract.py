"""The promises of ShipmentRepository and LocationCatalog, checked on every back end."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from attrs import evolve
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine, ping
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.tables import orders, recipients, sequences, tracking_events
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import (
    ConcurrentUpdate,
    LocationNotFound,
    ShipmentNotFound,
    StorageUnavailable,
)
from logistic.domain.history import PlannedShipment, fake_shipment
from logistic.domain.model import Contact, Location, Region, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import NewShipment, ShipmentRepository
from tests.integration.sql_backends import Backend
from tests.services import free_port

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


# --- SQL only ---------------------------------------------------------------------------


def test_the_order_row_summarises_its_history(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    delivered_plan = (
        created(NOW - timedelta(days=2)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=2) + timedelta(hours=3)),
        TrackingEvent(Status.IN_TRANSIT, 13, NOW - timedelta(days=1)),
        TrackingEvent(Status.OUT_FOR_DELIVERY, 13, NOW - timedelta(hours=5)),
        TrackingEvent(Status.DELIVERED, 13, NOW - timedelta(hours=2)),
    )
    delivered, fresh = repository.add_many([new_shipment(*delivered_plan), new_shipment()])

    def summary(sno: int) -> tuple[Any, ...]:
        columns = (
            orders.c.current_status,
            orders.c.current_location_id,
            orders.c.last_event_at,
            orders.c.delivered_at,
            orders.c.event_count,
        )
        with engine.connect() as connection:
            return tuple(connection.execute(select(*columns).where(orders.c.sno == sno)).one())

    delivered_at = NOW - timedelta(hours=2)
    assert summary(delivered.sno) == ("Delivered", 13, delivered_at, delivered_at, 5)
    assert summary(fresh.sno) == (None, None, None, None, 0)

    repository.append_event(fresh.sno, created(NOW - timedelta(hours=1)), expected_events=0)
    assert summary(fresh.sno) == ("Created", 2, NOW - timedelta(hours=1), None, 1)
    for step, (status, location) in enumerate(
        [
            (Status.PACKAGE_RECEIVED, 2),
            (Status.IN_TRANSIT, 13),
            (Status.OUT_FOR_DELIVERY, 13),
            (Status.DELIVERED, 13),
        ],
        start=1,
    ):
        at = NOW - timedelta(hours=1) + timedelta(minutes=step)
        repository.append_event(fresh.sno, TrackingEvent(status, location, at), step)
    assert summary(fresh.sno) == ("Delivered", 13, at, at, 5)


def test_a_batch_with_an_unknown_center_stores_nothing(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    good = new_shipment(created())
    bad = new_shipment(created(), TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW))

    with pytest.raises(LocationNotFound) as raised:
        repository.add_many([good, bad])

    assert raised.value.location_id == 404
    assert repository.count() == 0
    assert event_count(engine) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(recipients)).scalar_one() == 0
    [stored] = repository.add_many([good])
    assert repository.get(stored.sno) == stored


def test_an_event_at_an_unknown_center_is_not_recorded(sql_shipment_backend: Backend) -> None:
    repository = sql_shipment_backend.shipments
    [stored] = repository.add_many([new_shipment(created())])

    with pytest.raises(LocationNotFound):
        repository.append_event(
            stored.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW), expected_events=1
        )

    assert repository.get(stored.sno) == stored
    fresh = repository.append_event(
        stored.sno, TrackingEvent(Status.PACKAGE_RECEIVED, 3, NOW), expected_events=1
    )
    assert len(fresh.events) == 2


def test_snos_continue_after_stored_data_when_the_sequence_is_new(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    stored = repository.add_many([new_shipment(created()) for _ in range(5)])
    with engine.begin() as connection:
        connection.execute(sequences.delete())

    [after] = repository.add_many([new_shipment(created())])

    assert after.sno == max(shipment.sno for shipment in stored) + 1
    assert after.recipient.id == max(shipment.recipient.id for shipment in stored) + 1


def test_a_bulk_order_row_summarises_its_history(sql_shipment_backend: Backend) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    delivered_at = NOW - timedelta(hours=2)
    history = (
        created(NOW - timedelta(days=2)),
        TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW - timedelta(days=2) + timedelta(hours=3)),
        TrackingEvent(Status.IN_TRANSIT, 13, NOW - timedelta(days=1)),
        TrackingEvent(Status.OUT_FOR_DELIVERY, 13, NOW - timedelta(hours=5)),
        TrackingEvent(Status.DELIVERED, 13, delivered_at),
    )
    delivered, fresh = repository.add_in_bulk([new_shipment(*history), new_shipment()])
    columns = (
        orders.c.current_status,
        orders.c.current_location_id,
        orders.c.last_event_at,
        orders.c.delivered_at,
        orders.c.event_count,
    )
    with engine.connect() as connection:
        rows = connection.execute(select(*columns).order_by(orders.c.sno)).all()

    assert [tuple(row) for row in rows] == [
        ("Delivered", 13, delivered_at, delivered_at, 5),
        (None, None, None, None, 0),
    ]
    assert repository.get(fresh) is not None
    assert repository.get(delivered) is not None


def test_a_bulk_batch_with_an_unknown_center_stores_nothing(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    bad = new_shipment(created(), TrackingEvent(Status.PACKAGE_RECEIVED, 404, NOW))

    with pytest.raises(LocationNotFound) as raised:
        repository.add_in_bulk([*generated(20, seed=1), bad])

    assert raised.value.location_id == 404
    assert repository.count() == 0
    assert event_count(engine) == 0
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(recipients)).scalar_one() == 0


def statements(engine: Engine, action: Callable[[], object]) -> list[str]:
    """The SQL statements (transaction control left out) that `action` sends."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        statement = args[2]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


def primed(backend: Backend) -> tuple[ShipmentRepository, Engine]:
    """The back end's repository and engine, after a first order made the sequences."""
    assert backend.engine is not None
    backend.shipments.add_many(generated(1, seed=1))
    return backend.shipments, backend.engine


def driver_statements(engine: Engine, action: Callable[[], object]) -> list[str]:
    """The SQL statements (transaction control left out) that `action` sends, seen by
    the driver itself: the shipment read goes past Core's events. `action` runs twice,
    and the first run, which opens the connection, is not counted."""
    sent: list[str] = []

    def watch(dbapi_connection: Any, _: object) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(sent.append)
            return
        query = dbapi_connection.query  # PyMySQL's and mysqlclient's cursors call it

        def counted(sql: str | bytes, *args: Any) -> Any:
            sent.append(sql if isinstance(sql, str) else sql.decode())
            return query(sql, *args)

        dbapi_connection.query = counted

    engine.dispose()
    event.listen(engine, "connect", watch)
    try:
        action()
        sent.clear()
        action()
    finally:
        event.remove(engine, "connect", watch)
        engine.dispose()
    return [
        statement
        for statement in sent
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
    ]


def test_reading_a_shipment_is_one_query_of_its_order_row(sql_shipment_backend: Backend) -> None:
    """The order's snapshot holds its recipient and events (adapters/sql/snapshot.py)."""
    repository, engine = sql_shipment_backend.shipments, sql_shipment_backend.engine
    assert engine is not None
    [stored] = repository.add_many(generated(1, seed=3))

    sent = driver_statements(engine, lambda: repository.get(stored.sno))

    assert len(sent) == 1
    assert "FROM orders" in sent[0]
    assert "recipients" not in sent[0]
    assert "tracking_events" not in sent[0]


def test_a_batch_costs_the_same_round_trips_whatever_its_size(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = primed(sql_shipment_backend)

    small = statements(engine, lambda: repository.add_many(generated(1, seed=2)))
    large = statements(engine, lambda: repository.add_many(generated(200, seed=3)))

    assert len(large) == len(small)


def test_a_small_batch_is_numbered_and_written_in_one_transaction(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = primed(sql_shipment_backend)
    commits: list[object] = []
    commit = commits.append
    event.listen(engine, "commit", commit)
    try:
        sent = statements(engine, lambda: repository.add_many(generated(100, seed=4)))
    finally:
        event.remove(engine, "commit", commit)

    assert len(commits) == 1
    # The three sequences: one locking read, one update; one INSERT per table; the
    # status counts and the place counts.
    assert len(sent) == 2 + 3 + 2


def test_a_bulk_batch_costs_the_same_round_trips_whatever_its_size(
    sql_shipment_backend: Backend,
) -> None:
    repository, engine = primed(sql_shipment_backend)

    small = statements(engine, lambda: repository.add_in_bulk(generated(1, seed=2)))
    large = statements(engine, lambda: repository.add_in_bulk(generated(300, seed=3)))

    assert len(large) == len(small)


def test_an_unreachable_database_is_storage_unavailable() -> None:
    engine = create_engine(f"mysql+pymysql://nobody@127.0.0.1:{free_port()}/logistic")
    repository, catalog = SqlShipmentRepository(engine), SqlLocationCatalog(engine)
    try:
        for call in (
            lambda: ping(engine),
            lambda: repository.get(1),
            lambda: repository.count(),
            lambda: repository.add_many([new_shipment(created())]),
            lambda: repository.append_event(1, created(), 0),
            lambda: catalog.all(),
            lambda: catalog.sync(LOGISTICS_CENTERS),
        ):
            with pytest.raises(StorageUnavailable) as raised:
                call()
            assert raised.value.__cause__ is not None
    finally:
        engine.dispose()


def test_ping_passes_on_a_live_database(sql_shipment_backend: Backend) -> None:
    assert sql_shipment_backend.engine is not None
    ping(sql_shipment_backend.engine)


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


def test_a_batch_larger_than_one_statement_is_stored_whole(shipment_backend: Backend) -> None:
    """Over a million characters of rows: MariaDB gets several INSERTs, all in one transaction."""
    long_text = "臺北市大安區忠孝東路四段" * 21  # 252 characters, under the 255 allowed
    new = [
        NewShipment(
            Contact(f"收件人{index}", "0912345678", long_text),
            PlannedShipment(2, 13, created().occurred_at, (evolve(created(), note=long_text),)),
            promised_by=NOW + timedelta(days=1),
        )
        for index in range(4_000)
    ]
    engine = shipment_backend.engine
    stored: list[range] = []

    def add() -> None:
        stored.append(shipment_backend.shipments.add_in_bulk(new))

    sent = add() if engine is None else statements(engine, add)

    [snos] = stored
    assert len(snos) == 4_000
    if shipment_backend.name.startswith("mariadb"):  # literals, whichever the driver
        assert sum(text.startswith("INSERT INTO recipients ") for text in sent or []) >= 2
    for sno in (snos[0], snos[1_234], snos[-1]):
        found = shipment_backend.shipments.get(sno)
        assert found is not None
        assert found.recipient.address == long_text
        assert found.events[0].note == long_text


@pytest.mark.mariadb
@pytest.mark.parametrize("first", ["pymysql", "mysqldb"])
def test_each_mysql_driver_is_handed_the_read_in_its_own_parameter_style(
    mariadb_engine: Engine,
    mysqlclient_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    first: str,
) -> None:
    """PyMySQL takes `%(sno)s` and a dict, mysqlclient `%s` and a tuple. Both accept the
    other's too, so only what their cursors are handed tells whether the SQL compiled
    for one driver was kept for the other (the cache keyed by dialect name alone)."""
    import MySQLdb.cursors
    import pymysql.cursors

    from logistic.adapters.sql import reads as sql_reads

    monkeypatch.setattr(sql_reads, "_COMPILED", {})
    handed: dict[str, tuple[str, object]] = {}
    for name, cursor in (("pymysql", pymysql.cursors.Cursor), ("mysqldb", MySQLdb.cursors.Cursor)):
        execute = cursor.execute

        def watched(
            self: Any, query: str | bytes, args: object = None, *, _n: str = name, _e: Any = execute
        ) -> Any:
            sql = query if isinstance(query, str) else query.decode()
            if "FROM orders" in sql:  # the read, not a connection's own set-up
                handed.setdefault(_n, (sql, args))
            return _e(self, query, args)

        monkeypatch.setattr(cursor, "execute", watched)
    engines = {"pymysql": mariadb_engine, "mysqldb": mysqlclient_engine}
    SqlLocationCatalog(mariadb_engine).sync(LOGISTICS_CENTERS)
    [stored] = SqlShipmentRepository(mariadb_engine).add_many(generated(1, seed=5))
    handed.clear()

    for name in sorted(engines, key=lambda name: name != first):
        assert SqlShipmentRepository(engines[name]).get(stored.sno) == stored

    assert "%(sno)s" in handed["pymysql"][0]
    assert handed["pymysql"][1] == {"sno": stored.sno}
    assert "%(sno)s" not in handed["mysqldb"][0]
    assert handed["mysqldb"][1] == (stored.sno,)
