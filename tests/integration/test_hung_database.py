"""A private MariaDB paused (SIGSTOP) or refusing writes, under a real `logistic serve`.

Every request then ends within the database timeout as a JSON 503, /readyz within
2 s, and the error log holds the failed statement without its values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest
import sqlalchemy as sa

from logistic.domain.status import Status, allowed_next
from tests.integration.private_mariadb import MariaDBServer, private_mariadb
from tests.integration.servers import Reply, ServiceProcess, create_key, running_service
from tests.services import as_mysqlclient, mysqlclient_problem, require

TIMEOUT_S = 2
# The timeout, a reconnection's, and the scheduling of a busy test machine.
BOUND_S = 3 * TIMEOUT_S + 2
SECRET_NOTE = "hand to Chen Mei-Ling 0912345678 at 12 Zhongzheng Rd"


@pytest.fixture(scope="module")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    with private_mariadb(tmp_path_factory.mktemp("mariadb")) as server:
        yield server


def _database_url(server: MariaDBServer, driver: str, name: str) -> str:
    url = server.create_database(name)
    if driver == "mysqldb":
        require("mysqlclient", mysqlclient_problem())
        return as_mysqlclient(url)
    return url


def _service_env(url: str) -> dict[str, str]:
    return {"LOGISTIC_DATABASE_URL": url, "LOGISTIC_DATABASE_TIMEOUT": str(TIMEOUT_S)}


def _in_flight(service: ServiceProcess) -> int:
    """A new order that an Exception event may still interrupt."""
    reply = service.get("/fake?num=20")
    assert reply.status == 200, reply
    for order in reply.json()["data"]:
        history = [Status(detail["tracking_status"]) for detail in order["details"]]
        if Status.EXCEPTION in allowed_next(history):
            sno: int = order["sno"]
            return sno
    raise AssertionError("20 fake orders and none in flight")


def _post_event(service: ServiceProcess, sno: int, key: str, note: str) -> Reply:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body: dict[str, Any] = {"status": "Exception", "location_id": 1, "note": note}
    return service.request(
        "POST", f"/shipments/{sno}/events", headers=headers, body=json.dumps(body).encode()
    )


def _timed(call: Any) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = call()
    return reply, time.monotonic() - started


def _json_503(reply: Reply) -> None:
    assert reply.status == 503, reply
    assert reply.content_type.startswith("application/json"), reply
    assert reply.json()["error"]["code"] == 503


@pytest.mark.parametrize("driver", ["pymysql", "mysqldb"])
def test_a_failed_write_logs_no_values(mariadb: MariaDBServer, driver: str, tmp_path: Path) -> None:
    url = _database_url(mariadb, driver, f"refusing_{driver}")
    with running_service(_service_env(url), tmp_path) as service:
        sno = _in_flight(service)
        key = create_key(service, "events:write")
        engine = sa.create_engine(mariadb.url(f"refusing_{driver}"))
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_events BEFORE INSERT ON tracking_events FOR EACH ROW"
                " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused for the test'"
            )
        engine.dispose()
        reply = _post_event(service, sno, key, SECRET_NOTE)
        _json_503(reply)
        log = service.log()
    assert "refused for the test" in log  # the failure itself is logged
    assert "parameters hidden" in log
    assert "Chen Mei-Ling" not in log
    assert "0912345678" not in log


@pytest.mark.parametrize("driver", ["pymysql", "mysqldb"])
def test_a_paused_database_is_a_quick_json_503(
    mariadb: MariaDBServer, driver: str, tmp_path: Path
) -> None:
    url = _database_url(mariadb, driver, f"paused_{driver}")
    with running_service(_service_env(url), tmp_path) as service:
        sno = _in_flight(service)
        key = create_key(service, "events:write")
        assert service.get("/readyz").status == 200
        with mariadb.paused():
            ready, ready_seconds = _timed(lambda: service.get("/readyz"))
            lookup, lookup_seconds = _timed(lambda: service.get(f"/query?sno={sno + 1000}"))
            event, event_seconds = _timed(lambda: _post_event(service, sno, key, "paused"))
        assert ready.status == 503, ready
        assert ready_seconds < 2.0
        assert ready.json()["checks"]["database"].startswith("unavailable")
        _json_503(lookup)
        assert lookup_seconds < BOUND_S
        _json_503(event)
        assert event_seconds < BOUND_S
        _recovers(service, sno, key)


def _recovers(service: ServiceProcess, sno: int, key: str) -> None:
    deadline = time.monotonic() + 30
    while service.get("/readyz").status != 200:
        assert time.monotonic() < deadline, service.log()
        time.sleep(0.5)
    assert service.get(f"/query?sno={sno}").status == 200
    assert _post_event(service, sno, key, "after the pause").status in (201, 409)


def test_the_private_server_really_pauses(mariadb: MariaDBServer) -> None:
    """The fault is real: a client with no timeout of its own waits while it is paused."""
    connection = pymysql.connect(host="127.0.0.1", port=mariadb.port, user="root", read_timeout=1)
    try:
        with (
            mariadb.paused(),
            pytest.raises(pymysql.err.OperationalError),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 1")
    finally:
        connection.close()
