"""POST /events through a real `logistic serve` on MariaDB and Redis: a batch of many
orders' scans applied at once, seen by every worker, and not applied twice on a retry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from logistic.domain.status import Status, allowed_next
from tests.integration.servers import Reply, ServiceProcess, create_key, running_service

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]


def _post(service: ServiceProcess, items: list[dict[str, Any]], key: str) -> Reply:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    body = json.dumps({"events": items}).encode()
    return service.request("POST", "/events", headers=headers, body=body)


def _in_flight(service: ServiceProcess, key: str) -> dict[int, Status]:
    """New orders that can take a next status that leaves them in flight: that status."""
    reply = service.request("GET", "/fake?num=40", headers={"Authorization": f"Bearer {key}"})
    assert reply.status == 200, reply
    found = {}
    for order in reply.json()["data"]:
        history = [Status(detail["tracking_status"]) for detail in order["details"]]
        choices = allowed_next(history) - {Status.EXCEPTION, Status.RETURNED_TO_SENDER}
        if choices:
            found[int(order["sno"])] = min(choices, key=lambda s: (s.is_terminal, s.value))
    assert len(found) >= 5, "40 fake orders and hardly any in flight"
    return found


def test_a_batch_is_applied_once_and_seen_at_once(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {
        "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
        "LOGISTIC_REDIS_URL": request.getfixturevalue("redis_url"),
        "LOGISTIC_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
        "LOGISTIC_WORKERS": "2",
    }
    with running_service(env, tmp_path) as service:
        key = create_key(service, "events:write", "fake:write")
        nexts = _in_flight(service, key)
        # Cached before the batch, with their histories' lengths.
        before = {sno: len(service.get(f"/query?sno={sno}").json()["details"]) for sno in nexts}
        now = datetime.now(UTC).isoformat()
        items = [
            {"sno": str(sno), "status": status.value, "location_id": 3, "occurred_at": now,
             "idempotency_key": f"hub-{sno}"}
            for sno, status in nexts.items()
        ]  # fmt: skip
        items.append({**items[0], "sno": "999999999", "idempotency_key": "hub-unknown"})

        first = _post(service, items, key)

        assert first.status == 200, first
        results = first.json()["data"]["results"]
        assert [entry["code"] for entry in results] == [201] * len(nexts) + [404]
        assert first.json()["data"]["summary"] == {
            "applied": len(nexts), "replayed": 0, "refused": 1,
        }  # fmt: skip
        for sno, status in nexts.items():
            for _ in range(4):  # both workers, through the cache
                assert service.get(f"/query?sno={sno}").json()["tracking_status"] == status

        again = _post(service, items, key)

        assert again.status == 200, again
        assert again.json()["data"]["summary"] == {
            "applied": 0, "replayed": len(nexts), "refused": 1,
        }  # fmt: skip
        for sno, status in nexts.items():
            details = service.get(f"/query?sno={sno}").json()["details"]
            assert len(details) == before[sno] + 1
            assert details[-1]["status"] == status.value
