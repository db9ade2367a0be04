"""POST /query: many parcels in one call, each as GET /query answers it, in order."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve
from dependency_injector import providers
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.adapters.memory import FailingCache, MemoryCache
from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.errors import CacheUnavailable
from logistic.domain.model import Shipment
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.services.tracking import View, missing_key, tracking_key
from logistic.settings import Settings
from tests.bodies import cached_body
from tests.unit.conftest import NOW
from tests.unit.scans import assert_error, bearer, key_with, shipment_with

HISTORY = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]


def _container(**env: str) -> Container:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})
    return memory_container(settings=settings, now=NOW)


def _lookup(client: FlaskClient, snos: Any, headers: dict[str, str] | None = None) -> TestResponse:
    return client.post("/query", json={"snos": snos}, headers=headers or {})


class Recording:
    """A cache or repository that records the calls made to it, by name."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)

        def recorded(*args: Any) -> Any:
            self.calls.append((name, args))
            return method(*args)

        return recorded

    def named(self, *names: str) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in names]


@pytest.fixture
def recorded(container: Container) -> tuple[Recording, Recording]:
    cache = Recording(MemoryCache(container.clock()))
    shipments = Recording(container.shipments())
    container.cache.override(providers.Object(cache))
    container.query_shipments.override(providers.Object(shipments))
    return cache, shipments


def test_each_sno_is_answered_in_order_as_get_answers_it(
    client: FlaskClient, container: Container
) -> None:
    first, second = (shipment_with(container, HISTORY) for _ in range(2))

    answer = _lookup(client, [str(second), first, str(second), "99999"])

    assert answer.status_code == 200
    items = answer.get_json()["data"]
    assert items[:3] == [
        client.get(f"/query?sno={sno}").get_json() for sno in (second, first, second)
    ]
    assert items[3] == {
        "sno": "99999",
        "error": {"code": 404, "message": "no shipment with sno 99999"},
    }


@pytest.mark.parametrize(
    ("item", "shown"),
    [
        ("12abc", "12abc"),
        ("０", "０"),
        ("", ""),
        (0, "0"),
        ("0", "0"),
        (-3, "-3"),
        (2**63, str(2**63)),
        ("9" * 25, "9" * 25),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
        ({"sno": 1}, '{"sno": 1}'),
        ("x" * 60, "x" * 40 + "..."),
    ],
)
def test_a_malformed_sno_is_its_own_400_item(
    client: FlaskClient, container: Container, item: Any, shown: str
) -> None:
    sno = shipment_with(container, HISTORY)

    items = _lookup(client, [sno, item]).get_json()["data"]

    assert items[0]["sno"] == str(sno)
    assert items[1]["sno"] == shown
    assert items[1]["error"]["code"] == 400
    assert items[1]["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"snos"',
        b"{}",
        b'{"snos": []}',
        b'{"snos": "1"}',
        b'{"snos": {"1": 1}}',
        b'{"snos": [1], "view": "full"}',
        json.dumps({"snos": list(range(1, 52))}).encode(),
        b"[" * 5_000 + b"]" * 5_000,
    ],
)
def test_a_malformed_call_is_one_400(client: FlaskClient, body: bytes) -> None:
    answer = client.post("/query", data=body, content_type="application/json")

    assert "snos" in assert_error(answer, 400)["error"]["message"]


def test_a_body_nested_too_deep_or_with_snos_twice_is_a_400(client: FlaskClient) -> None:
    assert_error(client.post("/query", data=b'{"snos": ' + b"[" * 5000), 400)
    assert_error(client.post("/query", data=b'{"snos": ["1"], "snos": ["2"]}'), 400)


def test_fifty_is_the_most_and_a_body_over_16_kib_is_a_413(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    assert len(_lookup(client, [sno] * 50).get_json()["data"]) == 50

    assert_error(client.post("/query", data=b" " * (16 * 1024 + 1)), 413)


def test_each_sno_counts_against_the_quota_and_a_batch_past_it_is_a_429() -> None:
    container = _container(LOGISTIC_RATE_LIMIT="10/minute")
    client = create_app(container).test_client()
    sno = shipment_with(container, HISTORY)

    answer = _lookup(client, [sno, sno, "x", 424242])

    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Remaining"] == "6"
    assert_error(client.post("/query", data=b"nope"), 400)  # a malformed call counts once
    refused = _lookup(client, [sno] * 6)
    assert_error(refused, 429)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" in refused.headers


def test_the_recipient_is_whole_only_for_pii_read(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)

    masked = _lookup(client, [sno]).get_json()["data"][0]
    full = _lookup(client, [sno], bearer(key_with(container, Scope.PII_READ))).get_json()["data"][0]

    assert masked["recipient"]["name"] == "李**"
    assert full["recipient"]["name"] == "李小明"
    assert_error(_lookup(client, [sno], bearer("lgk_not-a-key")), 401)


def test_cached_bodies_come_from_one_read_and_misses_from_one_database_read(
    client: FlaskClient, container: Container, recorded: tuple[Recording, Recording]
) -> None:
    cache, shipments = recorded
    snos = [shipment_with(container, HISTORY) for _ in range(4)]
    client.get(f"/query?sno={snos[0]}")  # cached
    cache.calls.clear()
    shipments.calls.clear()

    _lookup(client, [*snos, 77777])

    assert [name for name, _ in cache.named("get", "get_many")] == ["get_many"]
    assert [name for name, _ in shipments.named("get", "get_many")] == ["get_many"]
    assert shipments.named("get_many")[0][1] == ([snos[1], snos[2], snos[3], 77777],)
    # The misses were cached, and the unknown sno remembered: the next call reads nothing.
    for sno in snos:
        assert cached_body(container.cache().get(tracking_key(sno))) is not None
    assert container.cache().get(missing_key(77777)) is not None
    shipments.calls.clear()
    again = _lookup(client, [*snos, 77777])
    assert shipments.named("get", "get_many") == []
    assert [item.get("sno") for item in again.get_json()["data"]] == [*map(str, snos), "77777"]


def test_bodies_cached_by_a_batch_carry_their_tags(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    _lookup(client, [sno], bearer(key_with(container, Scope.PII_READ)))

    full = client.get(f"/query?sno={sno}", headers=bearer(key_with(container, Scope.PII_READ)))

    assert (
        container.cache().get(tracking_key(sno, View.FULL))
        == full.headers["ETag"].encode() + full.data
    )


class Overtaken:
    """A repository whose batch reads return each shipment as it was one event earlier:
    as if a writer appended between the read and the cache fill."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_many(self, snos: Sequence[int]) -> dict[int, Shipment]:
        found: dict[int, Shipment] = self.inner.get_many(snos)
        return {
            sno: evolve(shipment, events=shipment.events[:-1]) for sno, shipment in found.items()
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_body_overtaken_by_a_write_is_not_left_in_the_cache(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    container.query_shipments.override(providers.Object(Overtaken(container.shipments())))

    answer = _lookup(client, [sno]).get_json()["data"][0]

    assert answer["tracking_status"] == "Package Received"  # what was read
    assert container.cache().get(tracking_key(sno)) is None  # and not kept
    assert client.get(f"/query?sno={sno}").get_json()["tracking_status"] == "In Transit"


def test_a_cache_that_is_down_is_read_around(client: FlaskClient, container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    container.cache.override(
        providers.Object(FailingCache(lambda: CacheUnavailable("the cache is down")))
    )

    items = _lookup(client, [sno, 88888]).get_json()["data"]

    assert items[0]["sno"] == str(sno)
    assert items[1]["error"]["code"] == 404


def test_an_order_created_during_the_lookup_is_not_hidden() -> None:
    container = _container()
    client = create_app(container).test_client()
    # The next sno is unknown when read, and exists by the time its entry is checked.
    real = container.shipments()

    class CreatedMeanwhile(Recording):
        def get_many(self, snos: Sequence[int]) -> dict[int, Shipment]:
            found: dict[int, Shipment] = real.get_many(snos)
            shipment_with(container, HISTORY)
            return found

    container.query_shipments.override(providers.Object(CreatedMeanwhile(real)))

    assert _lookup(client, [1]).get_json()["data"][0]["error"]["code"] == 404
    assert container.cache().get(missing_key(1)) is None
    container.query_shipments.reset_override()
    container.query_shipments.override(container.shipments)
    assert client.get("/query?sno=1").status_code == 200


def test_nothing_is_cached_for_a_moment_too_long(container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    lookup = container.batch_lookup()

    lookup.tagged_bodies([sno, 55555], View.MASKED)

    assert container.cache().get(tracking_key(sno)) is not None
    container.clock().set(NOW + timedelta(hours=4))
    assert container.cache().get(tracking_key(sno)) is None
    assert container.cache().get(missing_key(55555)) is None
