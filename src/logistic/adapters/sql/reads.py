"""Reads outside any transaction, tried once more when the pooled connection was dead;
the shipment reads fetched on the driver's own cursor.

Core's execution around the driver (a Connection, its context, result and row objects, a
type processor per value) cost a /query miss more CPU than the driver itself; this
beats Core's own execute by more than the noise band on misses: docs/performance.md,
"Speed tricks and what they buy". The rows are the driver's own: DATETIMEs
naive (text on SQLite), read by `snapshot.utc`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection

T = TypeVar("T")

# Each statement compiled once per dialect and driver (PyMySQL and mysqlclient mark
# parameters differently): its SQL, and the order of its parameters for a driver that
# takes them by position (None for one that takes them by name).
_COMPILED: dict[tuple[int, str, str], tuple[str, tuple[str, ...] | None]] = {}


def read(engine: Engine, query: Callable[[Connection], T]) -> T:
    """`query(connection)`, tried once more on a fresh connection when the first was dead.

    A read engine lends connections without pinging them first; one the server
    has closed fails at its first query and is thrown away with the pool's older
    connections, so a second try gets a live one.
    """
    try:
        with engine.connect() as connection:
            return query(connection)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with engine.connect() as connection:
        return query(connection)


def read_rows(
    engine: Engine, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `statement` (one built once, at import) outside any transaction, on a
    connection of `engine`'s pool, tried once more when the first was dead (as `read`)."""
    try:
        return _pooled_rows(engine, statement, params)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _pooled_rows(engine, statement, params)


def connection_rows(
    connection: Connection, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows of `statement` (one built once, at import) on `connection`, in its
    transaction if it has one."""
    return _cursor_rows(
        connection.connection,
        connection.engine,
        connection.dialect,
        statement,
        params,
        connection.invalidate,
    )


def _pooled_rows(
    engine: Engine, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Sequence[Any]]:
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:
        # Raised as Core's `connect` raises it (the pool hands the driver's error on).
        gone = dialect.is_disconnect(error, None, None)
        raise DBAPIError.instance(
            None, None, error, dialect.loaded_dbapi.Error, connection_invalidated=gone
        ) from error
    try:
        return _cursor_rows(pooled, engine, dialect, statement, params, pooled.invalidate)
    finally:
        pooled.close()  # back to the pool (an invalidated one is thrown away)


def _cursor_rows(
    pooled: PoolProxiedConnection,
    engine: Engine,
    dialect: Dialect,
    statement: Select[Any],
    params: dict[str, Any],
    invalidate: Callable[[BaseException], None],
) -> Sequence[Sequence[Any]]:
    """The rows of `statement`, fetched on the driver's own cursor of `pooled`, a
    connection of `engine`'s pool; the compiled SQL is kept by the statement's id.

    Failures are handled as Core handles them. A driver error is raised as a
    DBAPIError, so `storage_errors` and the retries treat it alike. When the server
    has gone (`connection_invalidated`), the connection is `invalidate`d and the
    engine's pool replaced: after a restart every connection it held is dead, and a
    retry must not be lent another. Anything else (an interrupt while the reply was
    awaited or read among them) invalidates the connection too, since what is left
    unread would answer the next query on it.
    """
    key = (id(statement), dialect.name, dialect.driver)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        _COMPILED[key] = (str(compiled), order)
    sql, order = _COMPILED[key]
    args: Any = params if order is None else tuple(params[name] for name in order)
    driver_connection = pooled.driver_connection
    assert driver_connection is not None  # None only once the connection is closed
    cursor = None
    try:
        cursor = driver_connection.cursor()
        cursor.execute(sql, args)
        rows = list(cursor.fetchall())
        cursor.close()
    except dialect.loaded_dbapi.Error as error:
        gone = dialect.is_disconnect(error, driver_connection, cursor)
        if gone:
            invalidate(error)
            # A new pool: its checked-in connections closed, its checked-out ones not
            # taken back, as Core retires a pool's older connections on a disconnect.
            engine.dispose()
        elif cursor is not None:
            # The connection stays; closing a cursor on a dead one raises, so only here.
            with contextlib.suppress(dialect.loaded_dbapi.Error):
                cursor.close()
        raise DBAPIError.instance(
            sql, args, error, dialect.loaded_dbapi.Error, connection_invalidated=gone
        ) from error
    except BaseException as error:
        invalidate(error)
        raise
    return rows
