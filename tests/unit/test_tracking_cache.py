"""The /query cache: write-through after events, staleness bounds, TTL by status, negative cache."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient

from logistic.adapters.memory import MemoryCache
from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.errors import CacheUnavailable
from logistic.domain.model import Shipment
from logistic.domain.status import Status
from logistic.services.events import Scan
from logistic.services.tracking import MAX_PENDING_DELETES, View, missing_key, tracking_key
from tests.bodies import cached_body
from tests.unit.scans import key_with, post_event, shipment_with

C, PR, IT, OFD, D = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
)
NEXT_HOP = {"status": "In Transit", "location_id": 7}


class Switchable(MemoryCache):
    """A memory cache that can be taken down and brought back; it remembers each TTL set."""

    down = False
    deletes_fail = False
    ttls: dict[str, timedelta]

    def get(self, key: str) -> bytes | None:
        self._fail()
        return super().get(key)

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        self._fail()
        self.ttls[key] = ttl
        super().set(key, value, ttl)

    def delete(self, *keys: str) -> None:
        self._fail()
        if self.deletes_fail:
            raise CacheUnavailable("the connection broke")
        super().delete(*keys)

    def _fail(self) -> None:
        if self.down:
            raise CacheUnavailable("the cache is down")


class Counting:
    """A repository that counts reads and can run something in the middle of one."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.gets = 0
        self.count_checks = 0
        self.during_get: Callable[[], None] | None = None

    def get(self, sno: int) -> Shipment | None:
        self.gets += 1
        found: Shipment | None = self.inner.get(sno)  # type: ignore[attr-defined]
        if self.during_get is not None:
            action, self.during_get = self.during_get, None
            action()
        return found

    def event_count(self, sno: int) -> int | None:
        self.count_checks += 1
        found: int | None = self.inner.event_count(sno)  # type: ignore[attr-defined]
        return found

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
def cache(container: Container) -> Switchable:
    cache = Switchable(container.clock())
    cache.ttls = {}
    container.cache.override(providers.Object(cache))
    return cache


@pytest.fixture
def shipments(container: Container) -> Counting:
    counting = Counting(container.shipments())
    # /query may read through a provider of its own (a read replica's repository).
    for name in ("shipments", "query_shipments"):
        provider = getattr(container, name, None)
        if provider is not None:
            provider.override(providers.Object(counting))
    return counting


@pytest.fixture
def key(container: Container) -> str:
    return key_with(container, Scope.EVENTS_WRITE)


def _status(client: FlaskClient, sno: int) -> str:
    response = client.get(f"/query?sno={sno}")
    assert response.status_code == 200, response.data
    status: str = response.get_json()["tracking_status"]
    return status


def test_a_recorded_event_replaces_the_cached_body_at_once(
    client: FlaskClient, container: Container, cache: Switchable, key: str
) -> None:
    sno = shipment_with(container, [C, PR])
    assert _status(client, sno) == PR

    written = post_event(client, sno, NEXT_HOP, key)

    assert _status(client, sno) == IT
    assert cached_body(cache.get(tracking_key(sno, View.MASKED))) == written.data
    assert b"In Transit" in (cache.get(tracking_key(sno, View.FULL)) or b"")


def test_a_body_read_before_a_concurrent_write_never_outlives_it(
    client: FlaskClient, container: Container, shipments: Counting, cache: Switchable
) -> None:
    sno = shipment_with(container, [C, PR])
    # The reader loads the shipment; before it fills the cache, a writer commits
    # and writes its body through. The reader's older body must not stay.
    shipments.during_get = lambda: container.recording().record(sno, Scan(IT, 7))

    stale = client.get(f"/query?sno={sno}")

    assert stale.get_json()["tracking_status"] == PR  # that reader's own answer
    assert _status(client, sno) == IT


def test_a_body_of_a_shipment_in_flight_is_checked_against_the_database_once_cached(
    client: FlaskClient, container: Container, shipments: Counting, cache: Switchable
) -> None:
    sno = shipment_with(container, [C, PR, IT])

    assert _status(client, sno) == IT
    assert (shipments.gets, shipments.count_checks) == (1, 1)


@pytest.mark.parametrize("final", [[C, PR, IT, OFD, D], [C, PR, IT, Status.RETURNED_TO_SENDER]])
def test_a_delivered_or_returned_body_is_final_and_cached_without_the_check(
    client: FlaskClient,
    container: Container,
    shipments: Counting,
    cache: Switchable,
    key: str,
    final: list[Status],
) -> None:
    sno = shipment_with(container, final)

    first = client.get(f"/query?sno={sno}")
    assert (shipments.gets, shipments.count_checks) == (1, 0)
    assert cached_body(cache.get(tracking_key(sno, View.MASKED))) == first.data
    # Nothing can be written after it, so nothing can make that body stale.
    assert post_event(client, sno, NEXT_HOP, key).status_code == 409
    reads = shipments.gets
    assert client.get(f"/query?sno={sno}").data == first.data
    assert shipments.gets == reads  # served from the cache


def test_writers_finishing_out_of_order_leave_the_newest_body(
    client: FlaskClient, container: Container, cache: Switchable
) -> None:
    sno = shipment_with(container, [C, PR])
    tracking = container.tracking()
    first = container.recording().record(sno, Scan(IT, 7))
    container.recording().record(sno, Scan(IT, 8))

    tracking.refresh(first.shipment)  # the first writer's write-through, late

    body = client.get(f"/query?sno={sno}").get_json()
    assert [detail["location_id"] for detail in body["details"]][-2:] == [7, 8]


def test_a_write_while_the_cache_is_down_succeeds_and_the_stale_body_goes_when_it_is_back(
    client: FlaskClient, container: Container, cache: Switchable, key: str
) -> None:
    sno = shipment_with(container, [C, PR])
    assert _status(client, sno) == PR
    cache.down = True

    assert post_event(client, sno, NEXT_HOP, key).status_code == 201
    assert _status(client, sno) == IT  # from the database while the cache is down

    cache.down = False
    assert cache.get(tracking_key(sno, View.MASKED)) is not None  # the stale body is still there
    assert _status(client, sno) == IT  # the next request deletes it first


def test_a_body_awaiting_its_delete_is_never_served(
    client: FlaskClient, container: Container, cache: Switchable, key: str
) -> None:
    sno = shipment_with(container, [C, PR])
    assert _status(client, sno) == PR
    cache.down = True
    assert post_event(client, sno, NEXT_HOP, key).status_code == 201
    cache.down = False
    cache.deletes_fail = True  # the cache answers reads again, but the retried delete fails

    assert _status(client, sno) == IT

    cache.deletes_fail = False
    assert _status(client, sno) == IT
    assert b"In Transit" in (cache.get(tracking_key(sno)) or b"In Transit")


def test_without_the_retry_the_ttl_bounds_a_stale_body(
    client: FlaskClient, container: Container, cache: Switchable, key: str
) -> None:
    sno = shipment_with(container, [C, PR])
    assert _status(client, sno) == PR
    cache.down = True
    assert post_event(client, sno, NEXT_HOP, key).status_code == 201
    cache.down = False
    # The process that remembered the stale key is gone (a restart, another worker).
    container.tracking.reset()
    container.recording.reset()

    assert _status(client, sno) == PR
    container.clock().advance(timedelta(hours=4))
    assert _status(client, sno) == IT


def test_the_ttl_depends_on_the_status(
    client: FlaskClient, container: Container, cache: Switchable
) -> None:
    in_flight = shipment_with(container, [C, PR, IT])
    delivered = shipment_with(container, [C, PR, IT, OFD, D])
    for sno in (in_flight, delivered):
        _status(client, sno)
    assert cache.ttls[tracking_key(in_flight)] == timedelta(hours=4)
    assert cache.ttls[tracking_key(delivered)] == timedelta(hours=24)


def test_an_unknown_sno_is_remembered_for_a_minute(
    client: FlaskClient, container: Container, shipments: Counting, cache: Switchable
) -> None:
    sno = shipment_with(container, [C]) + 1
    assert client.get(f"/query?sno={sno}").status_code == 404
    reads = shipments.gets

    for _ in range(5):
        assert client.get(f"/query?sno={sno}").status_code == 404
    assert shipments.gets == reads
    assert cache.ttls[missing_key(sno)] == timedelta(seconds=60)

    container.clock().advance(timedelta(seconds=60))
    assert client.get(f"/query?sno={sno}").status_code == 404
    assert shipments.gets == reads + 1


def test_fake_orders_are_never_hidden_by_a_negative_entry(
    client: FlaskClient, container: Container, cache: Switchable
) -> None:
    next_sno = shipment_with(container, [C]) + 1
    assert client.get(f"/query?sno={next_sno}").status_code == 404

    created = client.get("/fake?num=1").get_json()["data"][0]["sno"]

    assert created == next_sno
    assert client.get(f"/query?sno={next_sno}").status_code == 200


def test_an_order_created_during_the_lookup_is_not_hidden(
    client: FlaskClient, container: Container, shipments: Counting, cache: Switchable
) -> None:
    next_sno = shipment_with(container, [C]) + 1
    # The lookup misses; the order is created (and its keys deleted) before the
    # negative entry is set.
    shipments.during_get = lambda: container.fake_orders().create(1)

    assert client.get(f"/query?sno={next_sno}").status_code == 404
    assert client.get(f"/query?sno={next_sno}").status_code == 200


def test_the_negative_cache_can_be_switched_off(
    client: FlaskClient, container: Container, shipments: Counting, cache: Switchable
) -> None:
    container.tracking.reset()
    container.tracking.add_kwargs(negative_ttl=timedelta(0))
    for _ in range(3):
        assert client.get("/query?sno=424242").status_code == 404
    assert shipments.gets == 3
    assert missing_key(424242) not in cache.ttls


def test_deletes_held_for_later_keep_the_newest_up_to_the_cap_and_stay_quick(
    container: Container, cache: Switchable
) -> None:
    tracking = container.tracking()
    cache.deletes_fail = True
    seconds = []

    per_sno = len(tracking.keys(1))  # its bodies, its pages and its unknown-sno marker
    for first in range(1, 200_001, 5_000):  # 200,000 snos' keys against a cap of 100,000
        started = time.perf_counter()
        tracking.forget(range(first, first + 5_000))
        seconds.append(time.perf_counter() - started)

    # Past the cap the oldest are let go in one rebuild, not key by key from the front
    # of the dict (which made each call 10 to 100 times dearer than one below the cap).
    below_cap, past_cap = seconds[:6], seconds[10:]
    assert statistics.median(past_cap) < 10 * statistics.median(below_cap)
    assert tracking.servable_key(1) is not None  # let go: the TTL bounds them
    assert tracking.servable_key(200_000) is None  # the newest still wait for their delete
    assert tracking.servable_key(200_000 - MAX_PENDING_DELETES // per_sno + 1) is None
    assert tracking.servable_key(200_000 - MAX_PENDING_DELETES // per_sno - 1) is not None
