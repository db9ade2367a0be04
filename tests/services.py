"""Finding the real services the integration tests need.

Locally a missing service skips the tests that need it, with the reason;
under CI=true a missing service fails them instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

MARIADB_HOST = os.environ.get("LOGISTIC_TEST_MARIADB_HOST", "127.0.0.1")
MARIADB_PORT = int(os.environ.get("LOGISTIC_TEST_MARIADB_PORT", "3306"))
MARIADB_USER = os.environ.get("LOGISTIC_TEST_MARIADB_USER", "root")
MARIADB_PASSWORD = os.environ.get("LOGISTIC_TEST_MARIADB_PASSWORD", "")
REDIS_URL = os.environ.get("LOGISTIC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def require(service: str, problem: str | None) -> None:
    """Skip (locally) or fail (under CI) when `problem` says the service is missing."""
    if problem is None:
        return
    message = f"{service} not reachable: {problem}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def port_problem(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=1):
            return None
    except OSError as error:
        return f"{host}:{port}: {error}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def own_database(label: str) -> Iterator[str]:
    """A MariaDB database made for the caller, dropped afterwards; yields its SQLAlchemy URL.

    Tests create their own databases and drop only those.
    """
    import pymysql

    name = f"logistic_{label}_{uuid.uuid4().hex[:10]}"
    admin = pymysql.connect(
        host=MARIADB_HOST, port=MARIADB_PORT, user=MARIADB_USER, password=MARIADB_PASSWORD
    )
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield (
            f"mysql+pymysql://{MARIADB_USER}:{MARIADB_PASSWORD}@{MARIADB_HOST}:{MARIADB_PORT}"
            f"/{name}?charset=utf8mb4"
        )
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def mysqlclient_problem() -> str | None:
    """Why the C driver (the `mysqlclient` extra, `mysql+mysqldb://`) cannot be used here."""
    import importlib.util

    if importlib.util.find_spec("MySQLdb") is None:
        return (
            "mysqlclient is not installed (pip install '.[mysqlclient]'; it builds against "
            "Debian's libmariadb-dev and pkg-config)"
        )
    return None


def as_mysqlclient(url: str) -> str:
    """The same MariaDB URL through mysqlclient instead of PyMySQL."""
    return url.replace("mysql+pymysql://", "mysql+mysqldb://", 1)
