"""The dashboard's sign-in across the workers of a real server: on MariaDB and Redis
`logistic serve` runs two granian workers, which race to make the session secret at start;
a cookie one of them signs must be good in the other, and after a restart."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.integration.servers import ServiceProcess, create_key, running_service

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]


def _session(service: ServiceProcess, key: str) -> str:
    reply = service.request(
        "POST",
        "/dashboard/sign-in",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"key": key}).encode(),
    )
    assert reply.status == 303, reply.body[:300]
    cookies = [value for name, value in reply.headers if name.lower() == "set-cookie"]
    found = [re.match(r"logistic_session=([^;]+)", value) for value in cookies]
    (cookie,) = [match.group(1) for match in found if match]
    return cookie


def _statuses(service: ServiceProcess, cookie: str, times: int) -> set[int]:
    """The statuses of `times` requests on new connections, which the kernel spreads over
    the workers: a worker with a secret of its own would answer the form (401)."""
    return {
        service.request(
            "GET",
            "/dashboard?slot=2026-11-25T0900",
            headers={"Cookie": f"logistic_session={cookie}"},
        ).status
        for _ in range(times)
    }


def test_a_session_signed_by_one_worker_is_good_in_every_worker_and_after_a_restart(
    tmp_path: Path, fresh_mariadb_url: str, redis_url: str, redis_prefix: str
) -> None:
    env = {
        "LOGISTIC_DATABASE_URL": fresh_mariadb_url,
        "LOGISTIC_REDIS_URL": redis_url,
        "LOGISTIC_REDIS_PREFIX": redis_prefix,
        "LOGISTIC_WORKERS": "2",
    }
    with running_service(env, tmp_path) as service:
        cookie = _session(service, create_key(service, "reports:read"))
        # A bad slot is a 400 for a signed-in caller, a 401 (the form) for anyone else.
        assert _statuses(service, cookie, 30) == {400}
        assert service.get("/dashboard?slot=2026-11-25T0900").status == 401
        service.restart()
        assert _statuses(service, cookie, 10) == {400}
