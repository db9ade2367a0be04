"""An event recorded while a private Redis is paused (SIGSTOP): once Redis continues with
the pre-event body still stored, no worker serves it (services/freshness.py)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from logistic.adapters.redis_fence import fence_key
from logistic.domain.status import Status, allowed_next
from logistic.services.tracking import tracking_key
from tests.integration.servers import ServiceProcess, create_key, private_redis, running_service
from tests.services import own_database

PREFIX = "logistic:"
WATCH_S = 5.0


def _in_flight(service: ServiceProcess) -> tuple[int, str]:
    """A new order that an Exception event may interrupt, and its status now."""
    reply = service.get("/fake?num=20")
    assert reply.status == 200, reply
    for order in reply.json()["data"]:
        history = [Status(detail["tracking_status"]) for detail in order["details"]]
        if Status.EXCEPTION in allowed_next(history):
            return order["sno"], history[-1].value
    raise AssertionError("20 fake orders and none in flight")


def _shown(service: ServiceProcess, sno: int) -> str:
    reply = service.get(f"/query?sno={sno}")
    assert reply.status == 200, reply
    status: str = reply.json()["tracking_status"]
    return status


@pytest.mark.mariadb
@pytest.mark.slow
def test_no_worker_serves_the_pre_event_body_once_redis_continues(
    mariadb_url: str, tmp_path: Path
) -> None:
    with (
        own_database("fresh") as url,
        private_redis(tmp_path) as redis_server,
        running_service(
            {"LOGISTIC_DATABASE_URL": url, "LOGISTIC_REDIS_URL": redis_server.url}, tmp_path
        ) as service,
    ):
        sno, before = _in_flight(service)
        key = create_key(service, "events:write")
        redis = redis_server.client()
        deadline = time.monotonic() + 10
        while redis.get(PREFIX + tracking_key(sno)) is None:  # cached, and served from there
            assert time.monotonic() < deadline, service.log()
            assert _shown(service, sno) == before
        assert redis.exists(fence_key(PREFIX))

        with redis_server.paused():
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            body = {"status": "Exception", "location_id": 1, "note": "while Redis hangs"}
            recorded = service.request(
                "POST", f"/shipments/{sno}/events", headers=headers, body=json.dumps(body).encode()
            )
        assert recorded.status == 201, recorded
        # The pre-event body is still in Redis: only the fence keeps it from being served.
        assert before in redis.get(PREFIX + tracking_key(sno)).decode()

        shown: list[str] = []
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as pool:
            while time.monotonic() - started < WATCH_S:
                shown += pool.map(lambda _: _shown(service, sno), range(8))
        assert set(shown) == {Status.EXCEPTION.value}, shown
        # The cache serves again: the fence is back, and the entry is the new body.
        deadline = time.monotonic() + 10
        while not redis.exists(fence_key(PREFIX)):
            assert time.monotonic() < deadline, service.log()
            time.sleep(0.1)
        _shown(service, sno)
        cached = redis.get(PREFIX + tracking_key(sno))
        assert cached is not None
        assert Status.EXCEPTION.value in cached.decode()
