"""Bring a database to the newest schema with the Alembic migrations in `migrations/`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from logistic.adapters.sql.engine import create_engine, writer
from logistic.adapters.sql.galera import cluster_migration_lock, is_galera
from logistic.domain.errors import StorageUnavailable

if TYPE_CHECKING:
    from alembic.config import Config

# The project is installed editable, so the repository's migrations/ sits next to src/.
MIGRATIONS = Path(__file__).resolve().parents[4] / "migrations"
# Every replica may run `logistic migrate` at once: on MySQL they queue on this named lock.
MIGRATION_LOCK = "logistic-migrate"
MIGRATION_LOCK_SECONDS = 60


def alembic_config() -> Config:
    # Imported here, like `command` below: Alembic and Mako would add to the memory
    # of every worker of the server, and only migrating needs them.
    from alembic.config import Config

    if not (MIGRATIONS / "env.py").is_file():
        raise FileNotFoundError(f"no Alembic environment at {MIGRATIONS} (install with pip -e)")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine_or_url: Engine | str) -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database).

    Safe to run from several processes at once: one migrates, the others wait
    for it and then find nothing left to do.
    """
    from alembic import command

    engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        config = alembic_config()
        # A writing transaction: on SQLite, BEGIN IMMEDIATE makes the others wait for it.
        with (
            writer(engine).connect() as connection,
            _migration_lock(connection),
            connection.begin(),
        ):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as error:
        raise StorageUnavailable(
            f"migrating the database failed ({type(error.orig).__name__})"
        ) from error
    finally:
        if engine is not engine_or_url:
            engine.dispose()


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """On MySQL/MariaDB, hold a named lock while migrating; elsewhere nothing is needed.

    MySQL commits each DDL statement at once, so no transaction keeps two migrators
    apart. The server frees the lock when the session ends, even if this process dies.
    GET_LOCK holds on one node only: on a Galera cluster, a lock of its own.
    """
    if connection.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    if is_galera(connection):
        with cluster_migration_lock(connection, MIGRATION_LOCK_SECONDS):
            yield
        return
    taken = connection.execute(
        text("SELECT GET_LOCK(:name, :seconds)"),
        {"name": MIGRATION_LOCK, "seconds": MIGRATION_LOCK_SECONDS},
    ).scalar_one()
    connection.commit()
    if taken != 1:
        raise StorageUnavailable(
            f"another process held the migration lock {MIGRATION_LOCK!r}"
            f" for {MIGRATION_LOCK_SECONDS} s"
        )
    try:
        yield
    finally:
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": MIGRATION_LOCK})
        connection.commit()
