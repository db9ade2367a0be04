"""LOGISTIC_DATABASE_READ_URL: /query misses read the replica, writes go to the primary.

The "replica" here is a second database that nothing replicates into, so a test
can tell which of the two answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.entrypoints.http import create_app
from logistic.settings import Settings
from tests.services import own_database

pytestmark = pytest.mark.mariadb


@pytest.fixture
def replica_url(mariadb_url: str) -> Iterator[str]:
    with own_database("replica") as url:
        yield url


def _container(home: Path, **environ: str) -> Iterator[Container]:
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": str(home), "LOGISTIC_FAKE_API": "on", **environ}
    )
    container = Container(settings=settings)
    try:
        upgrade(container.engine())
        container.location_catalog().sync(LOGISTICS_CENTERS)
        yield container
    finally:
        container.shutdown_resources()


@pytest.fixture
def replica(replica_url: str, tmp_path: Path) -> Iterator[Container]:
    yield from _container(tmp_path / "replica", LOGISTIC_DATABASE_URL=replica_url)


@pytest.fixture
def service(fresh_mariadb_url: str, replica_url: str, tmp_path: Path) -> Iterator[Container]:
    yield from _container(
        tmp_path / "service",
        LOGISTIC_DATABASE_URL=fresh_mariadb_url,
        LOGISTIC_DATABASE_READ_URL=replica_url,
    )


def test_a_query_miss_reads_the_replica(replica: Container, service: Container) -> None:
    (only_on_replica,) = replica.fake_orders().create(1)
    client = create_app(service).test_client()

    reply = client.get(f"/query?sno={only_on_replica.sno}")

    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["sno"] == str(only_on_replica.sno)
    assert service.shipments().count() == 0


def test_fake_orders_are_written_to_the_primary(replica: Container, service: Container) -> None:
    client = create_app(service).test_client()

    reply = client.get("/fake?num=3")

    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert service.shipments().count() == 3
    assert replica.shipments().count() == 0


def test_an_order_not_yet_on_the_replica_is_read_from_the_primary(
    replica: Container, service: Container
) -> None:
    client = create_app(service).test_client()
    (created,) = client.get("/fake?num=1").get_json()["data"]

    reply = client.get(f"/query?sno={created['sno']}")

    assert reply.status_code == 200, reply.get_data(as_text=True)
    assert reply.get_json()["sno"] == str(created["sno"])
    assert replica.shipments().count() == 0


def test_a_batch_reads_the_replica_and_the_primary_for_what_it_lacks(
    replica: Container, service: Container
) -> None:
    client = create_app(service).test_client()
    on_primary = [order["sno"] for order in client.get("/fake?num=3").get_json()["data"]]
    (on_replica,) = replica.fake_orders().create(1)  # the replica's sno 1 is not the primary's
    as_the_replica_has_it = create_app(replica).test_client().get(f"/query?sno={on_replica.sno}")

    reply = client.post("/query", json={"snos": [on_replica.sno, on_primary[-1]]})

    assert reply.status_code == 200, reply.get_data(as_text=True)
    first, last = reply.get_json()["data"]
    assert first == as_the_replica_has_it.get_json()
    assert last == client.get(f"/query?sno={on_primary[-1]}").get_json()
    assert on_primary[-1] > replica.shipments().count()


def test_readiness_checks_the_replica_too(service: Container) -> None:
    reply = create_app(service).test_client().get("/readyz")

    assert reply.get_json()["checks"]["read_database"] == "ok"
