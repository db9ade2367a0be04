"""What a MariaDB Galera cluster needs apart: a migration lock that holds on every node.

GET_LOCK is local to the node that grants it, so two `logistic migrate` on two nodes
would both take it. DDL, though, runs in total order on the whole cluster: of several
`CREATE TABLE` of one name, on any nodes, exactly one succeeds. The lock is that
table; dropping it frees it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from logistic.domain.errors import StorageUnavailable

LOCK_TABLE = "logistic_migration_lock"
_POLL_S = 0.2
# MariaDB's error number for CREATE TABLE of a table that exists.
_ER_TABLE_EXISTS = 1050


def is_galera(connection: Connection) -> bool:
    """Whether the server is a node of a Galera cluster (wsrep_on is ON)."""
    row = connection.execute(text("SHOW VARIABLES LIKE 'wsrep_on'")).first()
    connection.commit()
    return row is not None and str(row[1]).upper() == "ON"


@contextmanager
def cluster_migration_lock(connection: Connection, wait_s: float) -> Iterator[None]:
    """Hold the cluster-wide migration lock, waiting up to `wait_s` for it.

    A migrator that died holding it leaves the table behind: then the others give up
    after `wait_s` (StorageUnavailable naming the table), and an operator who knows
    no migration runs drops it.
    """
    deadline = time.monotonic() + wait_s
    while not _created(connection):
        if time.monotonic() > deadline:
            raise StorageUnavailable(
                f"another process held the migration lock (table {LOCK_TABLE}) for"
                f" {wait_s:.0f} s; if no migration runs, DROP TABLE {LOCK_TABLE}"
            )
        time.sleep(_POLL_S)
    try:
        yield
    finally:
        connection.rollback()
        connection.execute(text(f"DROP TABLE IF EXISTS {LOCK_TABLE}"))
        connection.commit()


def _created(connection: Connection) -> bool:
    # A primary key: a Galera cluster may refuse tables without one (wsrep_mode).
    # The comment tells an operator who looks which process took it.
    try:
        connection.execute(
            text(
                f"CREATE TABLE {LOCK_TABLE} (id INT NOT NULL PRIMARY KEY)"
                f" COMMENT 'logistic migrate {uuid.uuid4().hex}'"
            )
        )
    except DBAPIError as error:
        connection.rollback()
        if getattr(error.orig, "args", (None,))[0] == _ER_TABLE_EXISTS:
            return False
        raise
    connection.commit()
    return True
