"""Engines tuned for each back end; nothing connects until the first query."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine

from logistic.adapters.sql.errors import storage_errors
from logistic.settings import DEFAULT_DATABASE_TIMEOUT_S, DEFAULT_POOL_RECYCLE_S

BUSY_TIMEOUT_MS = 5000
MYSQL_CONNECT_TIMEOUT_S = 10
# SQLAlchemy's own default wait for a pooled connection, kept where nothing is bounded.
POOL_TIMEOUT_UNBOUNDED_S = 30.0

# Every engine is made with `hide_parameters=True`: an error's text (logged with the
# 503 it becomes) then holds the SQL without its values, never a recipient's name,
# phone or address.

# Execution option asking for a transaction that will write (see `writer`).
WRITE_OPTION = "logistic_write"


def create_engine(
    url: str,
    pool_recycle_s: int = DEFAULT_POOL_RECYCLE_S,
    timeout_s: int | None = DEFAULT_DATABASE_TIMEOUT_S,
) -> Engine:
    """An engine for a SQLite or MariaDB/MySQL URL.

    On MariaDB/MySQL every wait is bounded by `timeout_s` (None: unbounded, for
    migrations and bulk loads): connecting, each read and write on the socket, and
    waiting for a pooled connection. A hung server is then a StorageUnavailable (a
    JSON 503) well before a proxy gives up on the request.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        return _mysql_engine(parsed, pool_recycle_s, timeout_s)
    return sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def create_read_engine(
    url: str,
    pool_recycle_s: int = DEFAULT_POOL_RECYCLE_S,
    timeout_s: int | None = DEFAULT_DATABASE_TIMEOUT_S,
) -> Engine | None:
    """An engine of its own for reads outside any transaction on a MariaDB/MySQL URL.

    A query costs one round trip there: autocommit, so no BEGIN and no ROLLBACK,
    and no ping before a connection is lent. A connection the server closed fails
    its first query instead (`DBAPIError.connection_invalidated`), so readers try
    once more (see `sql.reads`); the recycling still retires connections
    before any idle timeout. None for other back ends: read on the primary engine.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() not in ("mysql", "mariadb"):
        return None
    return _mysql_engine(parsed, pool_recycle_s, timeout_s, reads_only=True)


def writer(engine: Engine) -> Engine:
    """The same engine, for transactions that will write.

    On SQLite they start with BEGIN IMMEDIATE, so they wait (up to the busy
    timeout) for other writers instead of failing with "database is locked"
    when a read lock cannot be upgraded. Elsewhere this changes nothing.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def ping(engine: Engine) -> None:
    """Raise StorageUnavailable unless the database answers a trivial query."""
    with storage_errors(), engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _: object) -> None:
        # sqlite3 would emit its own BEGIN, too late for IMMEDIATE; we emit it in `_begin`.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _mysql_engine(
    url: sa.URL, pool_recycle_s: int, timeout_s: int | None, reads_only: bool = False
) -> Engine:
    if url.drivername in ("mysql", "mariadb"):
        url = url.set(drivername=f"{url.drivername}+pymysql")
    if "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    connect_args = _timeouts(url, timeout_s)
    if url.get_driver_name() == "mysqldb":
        connect_args["conv"] = mysqldb_conversions()
    pool_timeout = float(timeout_s) if timeout_s is not None else POOL_TIMEOUT_UNBOUNDED_S
    if reads_only:
        return sa.create_engine(
            url,
            pool_recycle=pool_recycle_s,
            pool_timeout=pool_timeout,
            isolation_level="AUTOCOMMIT",
            skip_autocommit_rollback=True,
            pool_reset_on_return=None,
            connect_args=connect_args,
            hide_parameters=True,
        )
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=pool_recycle_s,
        pool_timeout=pool_timeout,
        isolation_level="READ COMMITTED",
        connect_args=connect_args,
        hide_parameters=True,
    )


def _timeouts(url: sa.URL, timeout_s: int | None) -> dict[str, Any]:
    """The drivers' connect arguments bounding each wait (both spell them alike).

    The URL's own `connect_timeout`, `read_timeout` or `write_timeout` wins.
    """
    bounds: dict[str, Any] = {"connect_timeout": MYSQL_CONNECT_TIMEOUT_S}
    if timeout_s is not None:
        bounds = {
            "connect_timeout": min(MYSQL_CONNECT_TIMEOUT_S, timeout_s),
            "read_timeout": timeout_s,
            "write_timeout": timeout_s,
        }
    return {name: value for name, value in bounds.items() if name not in url.query}


def mysqldb_conversions() -> dict[Any, Any]:
    """mysqlclient's conversions, with DATETIME values read by `mysql_datetime`."""
    from MySQLdb.constants import FIELD_TYPE
    from MySQLdb.converters import conversions

    return {**conversions, FIELD_TYPE.DATETIME: mysql_datetime}


def mysql_datetime(value: str) -> datetime | None:
    """A DATETIME as mysqlclient reads it, parsed by `datetime.fromisoformat`.

    mysqlclient parses each DATETIME in Python, `fromisoformat` in C, and a /query miss
    reads many of them (see docs/performance.md, "Where the time goes"). What it refuses
    (a zero date) and a bare date go to mysqlclient's own parser, which answers as before.
    """
    if len(value) > len("YYYY-MM-DD"):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    from MySQLdb.times import DateTime_or_None

    parsed: datetime | None = DateTime_or_None(value)
    return parsed
