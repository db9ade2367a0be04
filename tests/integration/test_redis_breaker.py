"""A private Redis paused (SIGSTOP) under a real two-worker server: the circuit breaker.

While Redis hangs, lookups are answered from the database about as fast as when Redis
refuses connections at once (the database-only rate), and the log gets a few lines, not
a few per request; once it continues, the cache is used again.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.servers import RedisServer, ServiceProcess, private_redis, running_service
from tests.services import own_database

MEASURE_S = 3.0


def _rate(service: ServiceProcess, snos: list[int]) -> float:
    """Lookups answered 200 per second, one after another, for MEASURE_S."""
    answered = 0
    started = time.monotonic()
    while time.monotonic() - started < MEASURE_S:
        reply = service.get(f"/query?sno={snos[answered % len(snos)]}")
        assert reply.status == 200, reply
        answered += 1
    return answered / (time.monotonic() - started)


def _cache_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "redis" in line.lower() or "cache" in line]


def _wait_for_cache(service: ServiceProcess, server: RedisServer, snos: list[int]) -> None:
    """Until both workers have stored bodies again (each closes its breaker by a probe)."""
    deadline = time.monotonic() + 20
    while len(server.client().keys("*query:tagged*")) < len(snos):
        assert time.monotonic() < deadline, service.log()
        for sno in snos:
            service.get(f"/query?sno={sno}")
        time.sleep(0.2)


@pytest.mark.mariadb
@pytest.mark.slow
def test_a_paused_redis_costs_no_timeouts_per_request(mariadb_url: str, tmp_path: Path) -> None:
    with (
        own_database("breaker") as url,
        private_redis(tmp_path) as redis_server,
        running_service(
            {"LOGISTIC_DATABASE_URL": url, "LOGISTIC_REDIS_URL": redis_server.url}, tmp_path
        ) as service,
    ):
        reply = service.get("/fake?num=4")
        snos = [order["sno"] for order in reply.json()["data"]]
        _wait_for_cache(service, redis_server, snos)

        redis_server.stop()  # refused at once: what answering from the database costs
        _rate(service, snos)  # both workers open their breakers
        database_only = _rate(service, snos)
        redis_server.start()
        _wait_for_cache(service, redis_server, snos)

        before = len(service.log_path.read_text().splitlines())
        with redis_server.paused():
            paused = _rate(service, snos)
        lines = _cache_lines("\n".join(service.log_path.read_text().splitlines()[before:]))
        _wait_for_cache(service, redis_server, snos)

    print(f"lookups/s: {database_only:.0f} database only, {paused:.0f} Redis paused")
    # Without the breaker each lookup waited for two or three 50 ms timeouts.
    assert paused > 0.5 * database_only, (paused, database_only)
    # Per worker: a few failures before it opens, its opening, its closing.
    assert len(lines) <= 16, lines
