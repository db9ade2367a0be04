"""The storage back ends a contract suite runs against: memory, SQLite and MariaDB
(through each of its drivers: PyMySQL, and mysqlclient as "mariadb-mysqlclient").

The fixtures built on these live in tests/integration/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import frozen
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine

from logistic.adapters.memory import MemoryLocationCatalog, MemoryShipmentRepository
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.tables import metadata, place_counts, status_counts
from logistic.ports.repositories import LocationCatalog, ShipmentRepository

ALL_BACKENDS = ("memory", "sqlite", "mariadb", "mariadb-mysqlclient")
# And a three-node Galera cluster, each transaction on the next node in turn (see
# tests/integration/galera.py): for the repository, idempotency and report-figure
# suites, which override `empty_backend` with these.
WITH_GALERA = (*ALL_BACKENDS, "galera")
SQL_BACKENDS = ("sqlite", "mariadb", "mariadb-mysqlclient")


@frozen
class Backend:
    name: str
    shipments: ShipmentRepository
    locations: LocationCatalog
    engine: Engine | None = None


def backend_params(*names: str) -> list[object]:
    """Parameters for a fixture over these back ends; MariaDB ones carry the `mariadb`
    mark, the Galera one the `galera` mark."""
    return [pytest.param(name, id=name, marks=_marks(name)) for name in names]


def _marks(name: str) -> list[pytest.MarkDecorator]:
    if name == "galera":
        return [pytest.mark.galera]
    return [pytest.mark.mariadb] if "mariadb" in name else []


def memory_backend() -> Backend:
    return Backend("memory", MemoryShipmentRepository(), MemoryLocationCatalog())


def sql_backend(name: str, engine: Engine) -> Backend:
    return Backend(name, SqlShipmentRepository(engine), SqlLocationCatalog(engine), engine)


def migrated_sqlite(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def empty_tables(engine: Engine) -> None:
    """Delete every row (children first), keeping the schema and its migration stamp.

    The status and place counts keep their rows (made by the migrations), at zero.
    """
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table is status_counts or table is place_counts:
                connection.execute(update(table).values(orders=0))
            else:
                connection.execute(delete(table))


def open_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """The back end `name`, emptied; the MariaDB and Galera ones come from session fixtures."""
    if name == "memory":
        yield memory_backend()
    elif name == "sqlite":
        engine = migrated_sqlite(tmp_path / "logistic.db")
        try:
            yield sql_backend(name, engine)
        finally:
            engine.dispose()
    elif name == "mariadb":
        engine = request.getfixturevalue("mariadb_engine")
        empty_tables(engine)
        yield sql_backend(name, engine)
    elif name == "galera":
        engine = request.getfixturevalue("galera_engine")
        empty_tables(engine)
        yield sql_backend(name, engine)
    elif name == "mariadb-mysqlclient":
        engine = request.getfixturevalue("mysqlclient_engine")
        empty_tables(engine)
        yield sql_backend(name, engine)
    else:
        raise ValueError(f"unknown back end {name!r}")
