"""Storage back ends for the integration tests (see sql_backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.migrate import upgrade
from logistic.domain.centers import LOGISTICS_CENTERS
from tests.integration.galera import GaleraCluster, spread_engine
from tests.integration.galera import galera_cluster as galera_cluster
from tests.integration.redis_cluster import redis_cluster_prefix as redis_cluster_prefix
from tests.integration.redis_cluster import redis_cluster_url as redis_cluster_url
from tests.integration.redis_cluster import (
    replicated_redis_cluster as replicated_redis_cluster,
)
from tests.integration.sql_backends import (
    ALL_BACKENDS,
    SQL_BACKENDS,
    Backend,
    backend_params,
    open_backend,
)
from tests.services import as_mysqlclient, mysqlclient_problem, own_database, require


@pytest.fixture(scope="session")
def mariadb_engine(mariadb_url: str) -> Iterator[Engine]:
    """An engine on the session's MariaDB database, migrated once."""
    engine = create_engine(mariadb_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def mysqlclient_engine(mariadb_engine: Engine, mariadb_url: str) -> Iterator[Engine]:
    """An engine through mysqlclient (the C driver) on the session's migrated database."""
    require("mysqlclient", mysqlclient_problem())
    engine = create_engine(as_mysqlclient(mariadb_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def galera_engine(galera_cluster: GaleraCluster) -> Iterator[Engine]:
    """An engine on a migrated database of the cluster, each transaction on the next node."""
    with galera_cluster.database("galera") as name:
        engine = spread_engine(galera_cluster, name)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def fresh_mariadb_url(mariadb_url: str) -> Iterator[str]:
    """A URL to a MariaDB database of its own, created empty and dropped after the test."""
    with own_database("fresh") as url:
        yield url


@pytest.fixture(params=backend_params(*ALL_BACKENDS))
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every back end, with nothing stored (not even the logistics centers)."""
    yield from open_backend(request.param, request, tmp_path)


@pytest.fixture
def shipment_backend(empty_backend: Backend) -> Backend:
    """Every back end, with the logistics centers stored and no shipment yet."""
    empty_backend.locations.sync(LOGISTICS_CENTERS)
    return empty_backend


@pytest.fixture(params=backend_params(*SQL_BACKENDS))
def sql_shipment_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The SQL back ends only (SQLite and MariaDB), with the logistics centers stored."""
    for backend in open_backend(request.param, request, tmp_path):
        backend.locations.sync(LOGISTICS_CENTERS)
        yield backend
