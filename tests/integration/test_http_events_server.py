"""Recording events through a real `logistic serve`: every worker sees the write at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from logistic.domain.status import Status, allowed_next
from logistic.services.tracking import tracking_key
from tests.integration.servers import Reply, ServiceProcess, create_key, private_redis
from tests.integration.servers import running_service as service_running

READS = 40


def _in_flight(service: ServiceProcess, key: str) -> dict[str, Any]:
    """A new order that can take one more In Transit hop or its next stage."""
    reply = service.request("GET", "/fake?num=30", headers={"Authorization": f"Bearer {key}"})
    assert reply.status == 200, reply
    for order in reply.json()["data"]:
        history = [Status(detail["tracking_status"]) for detail in order["details"]]
        if allowed_next(history) - {Status.EXCEPTION, Status.RETURNED_TO_SENDER}:
            return {"sno": order["sno"], "history": history}
    raise AssertionError("30 fake orders and none in flight")


def _next_status(history: list[Status]) -> Status:
    """A next status that leaves the parcel in flight, so that another may follow."""
    choices = allowed_next(history) - {Status.EXCEPTION, Status.RETURNED_TO_SENDER}
    return min(choices, key=lambda status: (status.is_terminal, status.value))


def _post(service: ServiceProcess, sno: int, body: dict[str, Any], key: str) -> Reply:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return service.request(
        "POST", f"/shipments/{sno}/events", headers=headers, body=json.dumps(body).encode()
    )


def _children(pid: int) -> int:
    children = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            children += 1
    return children


def _gunicorn_workers(service: ServiceProcess, settle_seconds: float = 2.0) -> int:
    """How many workers the gunicorn master runs, once it has forked them (a little apart)."""
    assert service.pid is not None
    deadline = time.monotonic() + settle_seconds
    counts = []
    while time.monotonic() < deadline:
        counts.append(_children(service.pid))
        time.sleep(0.1)
    return max(counts)


def _reads_see(service: ServiceProcess, sno: int, status: Status, count: int) -> list[str]:
    """Every one of `count` concurrent lookups, each on a new connection, shows `status`."""

    def look(_: int) -> str:
        reply = service.get(f"/query?sno={sno}")
        assert reply.status == 200, reply
        shown: str = reply.json()["tracking_status"]
        return shown

    with ThreadPoolExecutor(max_workers=8) as pool:
        return [shown for shown in pool.map(look, range(count)) if shown != status]


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[ServiceProcess]:
    # Ask for four workers: the embedded default runs one process whatever is asked.
    with service_running({"LOGISTIC_WORKERS": "4"}, tmp_path) as service:
        yield service


def test_the_embedded_default_is_one_process_that_sees_its_writes(
    embedded: ServiceProcess,
) -> None:
    assert _gunicorn_workers(embedded) == 1
    key = create_key(
        embedded, "events:write", "fake:write"
    )  # the running service reads the new file
    order = _in_flight(embedded, key)
    sno = order["sno"]
    assert _reads_see(embedded, sno, order["history"][-1], 20) == []  # cached everywhere

    status = _next_status(order["history"])
    written = _post(embedded, sno, {"status": status, "location_id": 3}, key)

    assert written.status == 201, written
    assert written.json()["tracking_status"] == status
    assert _reads_see(embedded, sno, status, READS) == []


def test_the_embedded_rate_limit_is_one_count_for_all_requests(tmp_path: Path) -> None:
    env = {"LOGISTIC_WORKERS": "4", "LOGISTIC_RATE_LIMIT": "10/hour"}
    with service_running(env, tmp_path) as service:
        # Windows are aligned on the hour: keep the burst inside one. A loaded CI run
        # admitted 12 of 25 at about 19:00, most likely a burst in two windows.
        into_hour = time.time() % 3600
        if into_hour > 3600 - 120:
            time.sleep(3601 - into_hour)
        hour = time.time() // 3600
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda _: service.get("/query?sno=1"), range(25)))
        assert time.time() // 3600 == hour, "25 lookups took two minutes: far too slow"
        # No order is stored: the ten admitted lookups are 404s.
        assert sorted(reply.status for reply in replies) == [404] * 10 + [429] * 15
        refused = next(reply for reply in replies if reply.status == 429)
        assert int(refused.header("Retry-After") or 0) > 0
        assert refused.header("X-RateLimit-Limit") == "10"


@pytest.mark.mariadb
@pytest.mark.redis
def test_a_recorded_event_is_seen_at_once_on_mariadb_and_redis(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {
        "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
        "LOGISTIC_REDIS_URL": request.getfixturevalue("redis_url"),
        "LOGISTIC_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
        "LOGISTIC_WORKERS": "3",
    }
    with service_running(env, tmp_path) as service:
        assert _gunicorn_workers(service) == 3
        key = create_key(service, "events:write", "fake:write", "pii:read")
        order = _in_flight(service, key)
        sno = order["sno"]
        for _ in range(3):
            assert _reads_see(service, sno, order["history"][-1], 12) == []
            status = _next_status(order["history"])
            written = _post(service, sno, {"status": status, "location_id": 3}, key)
            assert written.status == 201, written
            assert written.json()["recipient"]["name"][-1] != "*"  # pii:read: the whole name
            assert _reads_see(service, sno, status, READS) == []
            order["history"].append(status)


@pytest.mark.mariadb
def test_a_write_while_redis_is_down_succeeds_and_is_seen_once_redis_is_back(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with private_redis(tmp_path) as cache_server:
        env = {
            "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
            "LOGISTIC_REDIS_URL": cache_server.url,
            # One worker: the process that took the write is the one that deletes the stale body.
            "LOGISTIC_WORKERS": "1",
        }
        with service_running(env, tmp_path) as service:
            key = create_key(service, "events:write", "fake:write")
            order = _in_flight(service, key)
            sno = order["sno"]
            before = service.get(f"/query?sno={sno}")
            assert before.status == 200, before

            cache_server.stop()
            status = _next_status(order["history"])
            written = _post(service, sno, {"status": status, "location_id": 3}, key)
            assert written.status == 201, written
            cache_server.start()  # nothing persisted: a restarted Redis has no stale body...

            client = cache_server.client()
            try:
                # ...so put the stale body back, as a Redis that never lost it would hold it.
                stale_key = f"logistic:{tracking_key(sno)}"
                stale = (before.header("ETag") or "").encode() + before.body
                client.set(stale_key, stale, px=3_600_000)
                # Redis is left alone a moment after failing (the breaker), then the
                # stale body is dropped; never served meanwhile.
                deadline = time.monotonic() + 10
                while client.get(stale_key) == stale:
                    assert time.monotonic() < deadline
                    reply = service.get(f"/query?sno={sno}")
                    assert reply.status == 200, reply
                    assert reply.json()["tracking_status"] == status
                    time.sleep(0.1)
            finally:
                client.close()
