"""Fixtures for the real services: a MariaDB database, Redis, and an S3-compatible server."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.contract import CheckedFlaskClient
from tests.services import (
    MARIADB_HOST,
    MARIADB_PORT,
    REDIS_URL,
    free_port,
    own_database,
    port_problem,
    require,
)

# Every Flask test client of every test checks each answer against the API's contract
# (tests/contract.py): Flask's documented place for the client class an app makes.
Flask.test_client_class = CheckedFlaskClient


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A SQLAlchemy URL to a database this test session created (and drops at the end)."""
    require("MariaDB", port_problem(MARIADB_HOST, MARIADB_PORT))
    with own_database("test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis; tests keep apart by using their own key prefix (see `redis_prefix`)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
        problem = None
    except redis.RedisError as error:
        problem = f"{REDIS_URL}: {error}"
    require("Redis", problem)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    import redis

    prefix = f"logistic-test:{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's standalone server) on 127.0.0.1."""
    moto_server = Path(sys.executable).with_name("moto_server")
    if not moto_server.exists():
        require("S3 test server", f"{moto_server} is not installed (pip install 'moto[server]')")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 20
        while port_problem("127.0.0.1", port) is not None:
            if process.poll() is not None or time.monotonic() > deadline:
                require("S3 test server", f"moto_server did not start: {log.read_text()[-500:]}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
