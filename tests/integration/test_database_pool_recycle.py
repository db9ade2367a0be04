"""LOGISTIC_DATABASE_POOL_RECYCLE: every engine replaces a pooled connection once it is that old.

It keeps connections younger than the idle timeout of the server or of a proxy in
front of it, which would otherwise close them under the pool.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from logistic.container import Container
from logistic.settings import Settings

pytestmark = pytest.mark.mariadb

RECYCLE_SECONDS = 1


def _pooled_connection(engine: Engine) -> Any:
    """The driver's connection the pool lends for one unit of work."""
    with engine.connect() as connection:
        return connection.connection.dbapi_connection


def test_every_engine_replaces_a_connection_older_than_the_recycle_time(
    mariadb_url: str, tmp_path: Path
) -> None:
    container = Container(
        settings=Settings.from_environ(
            {
                "LOGISTIC_HOME": str(tmp_path),
                "LOGISTIC_DATABASE_URL": mariadb_url,
                "LOGISTIC_DATABASE_READ_URL": mariadb_url,
                "LOGISTIC_DATABASE_POOL_RECYCLE": str(RECYCLE_SECONDS),
            }
        )
    )
    try:
        engines = [container.engine(), container.primary_read_engine(), container.read_engine()]
        first = [_pooled_connection(engine) for engine in engines]
        young = [_pooled_connection(engine) for engine in engines]
        time.sleep(RECYCLE_SECONDS + 0.2)
        old = [_pooled_connection(engine) for engine in engines]
    finally:
        container.shutdown_resources()

    assert len({id(engine) for engine in engines}) == 3
    assert [lent is again for lent, again in zip(first, young, strict=True)] == [True] * 3
    assert [lent is again for lent, again in zip(first, old, strict=True)] == [False] * 3
