"""A cached tracking page costs the workers no more than 1.5 times the CPU of a cached
/query body: through a real `logistic serve` on MariaDB and Redis with the rate limit on,
both asked in turn over one kept connection, the workers' CPU read from /proc.

The bench measures the same under load (`page hit c8` beside `hit c8`); this keeps a
change that loses the page's fast path from passing CI.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.processes import children, cpu_seconds

from tests.integration.servers import ServiceProcess, running_service

pytestmark = [pytest.mark.mariadb, pytest.mark.redis]

ROUNDS = 4
REQUESTS = 800  # per round and kind: enough clock ticks of CPU to compare
TARGET = 1.5


@pytest.fixture
def service(
    fresh_mariadb_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> Iterator[ServiceProcess]:
    env = {
        "LOGISTIC_DATABASE_URL": fresh_mariadb_url,
        "LOGISTIC_REDIS_URL": redis_url,
        "LOGISTIC_REDIS_PREFIX": redis_prefix,
        "LOGISTIC_RATE_LIMIT": "10000000/minute",
    }
    with running_service(env, tmp_path) as running:
        yield running


def _workers_cpu(
    service: ServiceProcess, connection: http.client.HTTPConnection, path: str
) -> float:
    assert service.pid is not None
    workers = children(service.pid)
    before = cpu_seconds(workers)
    for _ in range(REQUESTS):
        connection.request("GET", path, headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, path
    return cpu_seconds(workers) - before


def test_a_cached_page_costs_at_most_one_and_a_half_cached_json_bodies(
    service: ServiceProcess,
) -> None:
    made = service.get("/fake?num=1").json()["data"][0]
    sno = made["sno"]
    connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
    json_cpu = page_cpu = 0.0
    try:
        for _ in range(ROUNDS):
            json_cpu += _workers_cpu(service, connection, f"/query?sno={sno}")
            page_cpu += _workers_cpu(service, connection, f"/track/{sno}")
    finally:
        connection.close()

    requests = ROUNDS * REQUESTS
    report = (
        f"workers' CPU per request: page {1000 * page_cpu / requests:.3f} ms, "
        f"/query {1000 * json_cpu / requests:.3f} ms"
    )
    assert json_cpu > 0, report
    assert page_cpu <= TARGET * json_cpu, report
