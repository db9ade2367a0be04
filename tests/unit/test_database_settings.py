"""The database settings reach the engines; nothing here connects."""

from __future__ import annotations

import importlib.util
from datetime import timedelta

import pytest

from logistic.container import Container
from logistic.settings import ConfigurationError, Settings
from tests.services import mysqlclient_problem, require

PRIMARY = "mysql+pymysql://logistic:secret@db-primary.invalid/logistic"
REPLICA = "mysql+pymysql://logistic:secret@db-replica.invalid/logistic"


def _container(**environ: str) -> Container:
    return Container(
        settings=Settings.from_environ(
            {"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_DATABASE_URL": PRIMARY, **environ}
        )
    )


def test_without_a_read_url_reads_use_the_primary_database_in_a_pool_of_their_own() -> None:
    container = _container()

    assert container.read_engine() is container.primary_read_engine()
    assert container.read_engine() is not container.engine()
    assert container.read_engine().url == container.engine().url
    container.shutdown_resources()


def test_an_embedded_database_is_read_through_its_only_engine() -> None:
    container = _container(LOGISTIC_DATABASE_URL="sqlite://")

    assert container.read_engine() is container.engine()
    container.shutdown_resources()


def test_a_read_url_gets_an_engine_of_its_own() -> None:
    container = _container(LOGISTIC_DATABASE_READ_URL=REPLICA)

    assert container.read_engine().url.host == "db-replica.invalid"
    assert container.engine().url.host == "db-primary.invalid"
    container.shutdown_resources()


def test_connections_are_recycled_after_an_hour_unless_set() -> None:
    # Each engine replaces its connections once they are this old: see
    # tests/integration/test_database_pool_recycle.py.
    def recycle(**environ: str) -> timedelta:
        return Settings.from_environ(
            {"LOGISTIC_HOME": "/nonexistent", **environ}
        ).database_pool_recycle

    assert recycle() == timedelta(hours=1)
    assert recycle(LOGISTIC_DATABASE_POOL_RECYCLE="280") == timedelta(seconds=280)


@pytest.mark.parametrize("url", ["sqlite:///replica.db", "postgresql://replica/logistic"])
def test_a_read_url_must_be_a_mysql_replica(url: str) -> None:
    with pytest.raises(ConfigurationError, match="LOGISTIC_DATABASE_READ_URL"):
        Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_DATABASE_READ_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://db/logistic",
        "mysql+mysqlconnector://db/logistic",
        "db/logistic",
        "SQLITE:///logistic.db",
    ],
)
def test_an_unsupported_database_url_is_refused_with_the_choices(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"LOGISTIC_DATABASE_URL must be .*mysqldb"):
        Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_DATABASE_URL": url})


@pytest.mark.parametrize("backend", ["mysql", "mariadb"])
@pytest.mark.parametrize("driver", ["", "+pymysql", "+mysqldb"])
def test_both_drivers_reach_the_engines(backend: str, driver: str) -> None:
    if driver == "+mysqldb":
        require("mysqlclient", mysqlclient_problem())
    url = f"{backend}{driver}://logistic:secret@db-primary.invalid/logistic"
    container = _container(LOGISTIC_DATABASE_URL=url, LOGISTIC_DATABASE_READ_URL=url)

    expected = driver.lstrip("+") or "pymysql"
    assert container.engine().dialect.driver == expected
    assert container.read_engine().dialect.driver == expected
    container.shutdown_resources()


def test_mysqlclient_missing_is_a_configuration_error_that_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "MySQLdb" else real_find_spec(name, *args),
    )
    with pytest.raises(ConfigurationError, match=r"logistic\[mysqlclient\]"):
        Settings.from_environ(
            {"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_DATABASE_URL": "mysql+mysqldb://db/x"}
        )
