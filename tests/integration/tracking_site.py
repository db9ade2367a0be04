"""A running service for the tracking pages' tests, with orders made and driven through
its API: on the embedded default, or on MariaDB + Redis (a database and key prefix of
its own, dropped after)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from tests.integration.servers import ServiceProcess, create_key, running_service
from tests.services import REDIS_URL, own_database

REFRESH_SECONDS = 1  # the polling interval, shortened for the tests (30 s by default)
DRIVABLE = ("Created", "Package Received", "In Transit")


class Site:
    """One running service with orders made through its API, and a key to drive them."""

    def __init__(self, name: str, service: ServiceProcess) -> None:
        self.name = name
        self.service = service
        self.key = create_key(service, "events:write", "fake:write", "pii:read")

    def url(self, path: str) -> str:
        return f"{self.service.url}{path}"

    def json(self, path: str, keyed: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.key}"} if keyed else {}
        reply = self.service.request("GET", path, headers=headers)
        assert reply.status == 200, (path, reply.status, reply.body[:300])
        return reply.json()

    def record(self, sno: int, status: str) -> None:
        reply = self.service.request(
            "POST",
            f"/shipments/{sno}/events",
            headers={"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"},
            body=json.dumps({"status": status, "location_id": 5}).encode(),
        )
        assert reply.status == 201, (status, reply.status, reply.body[:300])

    def order(self, *then: str) -> int:
        """A new order brought to In Transit, then through `then`."""
        for _ in range(10):
            made = self.json("/fake?num=10", keyed=True)["data"]
            for order in made:
                status = order["tracking_status"]["tracking_status"]
                if status in DRIVABLE:
                    sno = int(order["sno"])
                    for step in DRIVABLE[DRIVABLE.index(status) + 1 :]:
                        self.record(sno, step)
                    for step in then:
                        self.record(sno, step)
                    return sno
        raise AssertionError("/fake made no order that could still be driven")


@pytest.fixture(scope="module", params=["embedded", "mariadb-redis"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    env = {"LOGISTIC_PAGE_REFRESH": str(REFRESH_SECONDS), "LOGISTIC_TRUSTED_PROXIES": "127.0.0.1"}
    with ExitStack() as stack:
        if request.param == "mariadb-redis":
            request.getfixturevalue("mariadb_url")  # MariaDB is there (or the test skips)
            request.getfixturevalue("redis_url")
            import redis

            prefix = f"logistic-test:{uuid.uuid4().hex[:10]}:"
            client = redis.Redis.from_url(REDIS_URL)
            stack.callback(client.close)
            stack.callback(
                lambda: [client.delete(key) for key in client.scan_iter(match=f"{prefix}*")]
            )
            env |= {
                "LOGISTIC_DATABASE_URL": stack.enter_context(own_database("pages")),
                "LOGISTIC_REDIS_URL": REDIS_URL,
                "LOGISTIC_REDIS_PREFIX": prefix,
            }
        home = tmp_path_factory.mktemp(request.param)
        yield Site(request.param, stack.enter_context(running_service(env, home)))
