"""/metrics, request ids and log lines through the real server (`logistic serve`, granian)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.servers import ServiceProcess, create_key, running_service

LOOKUPS = 120
FLUSH_SECONDS = 10.0

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(service: ServiceProcess) -> Samples:
    reply = service.get("/metrics")
    assert reply.status == 200, reply
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.body.decode())
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _lookups(samples: Samples) -> float:
    return _value(samples, "logistic_http_requests_total", route="/query", status="2xx")


@pytest.mark.mariadb
@pytest.mark.redis
def test_the_counts_of_both_workers_are_summed_exactly(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    env = {
        "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
        "LOGISTIC_REDIS_URL": request.getfixturevalue("redis_url"),
        "LOGISTIC_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
        "LOGISTIC_WORKERS": "2",
    }
    with running_service(env, tmp_path) as service:
        orders = service.get("/fake?num=3").json()["data"]
        snos = [order["sno"] for order in orders]

        def look_up(number: int) -> int:
            return service.get(f"/query?sno={snos[number % len(snos)]}").status

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(look_up, range(LOOKUPS))) == {200}
        # The other worker writes its counts within a second; a scrape shows them then.
        deadline = time.monotonic() + FLUSH_SECONDS
        samples = _samples(service)
        while _lookups(samples) < LOOKUPS and time.monotonic() < deadline:
            time.sleep(0.2)
            samples = _samples(service)

        assert _lookups(samples) == LOOKUPS
        lookups = "logistic_cache_lookups_total"
        hits, misses = (_value(samples, lookups, outcome=o) for o in ("hit", "miss"))
        assert hits + misses == LOOKUPS
        assert misses >= len(snos)  # each sno's first lookup in each worker at most
        assert _value(samples, "logistic_fake_orders_total") == 3
        assert _value(samples, "logistic_http_request_duration_seconds_count", route="/query") == (
            LOOKUPS
        )
        writers = {path.stem for path in (service.home / "metrics").rglob("counter_*.db")}
        assert len(writers) == 2, f"both workers answered lookups: {writers}"


def test_the_metrics_need_a_key_from_outside_the_configured_networks(tmp_path: Path) -> None:
    env = {"LOGISTIC_METRICS_FROM": "192.0.2.0/24"}
    with running_service(env, tmp_path) as service:
        refused = service.get("/metrics")
        assert refused.status == 401
        assert refused.header("WWW-Authenticate") == 'Bearer realm="logistic"'
        other = create_key(service, "reports:read")
        reader = create_key(service, "metrics:read")

        wrong = service.request("GET", "/metrics", {"Authorization": f"Bearer {other}"})
        right = service.request("GET", "/metrics", {"Authorization": f"Bearer {reader}"})

    assert wrong.status == 403
    assert right.status == 200
    assert right.content_type == "text/plain; version=0.0.4; charset=utf-8"
    assert b"# TYPE logistic_http_requests_total counter" in right.body


def _json_lines(service: ServiceProcess) -> list[dict[str, Any]]:
    lines = [line for line in service.log_path.read_text().splitlines() if line.strip()]
    assert lines
    parsed = []
    for line in lines:
        entry = json.loads(line)  # every line, granian's own too, is one JSON object
        assert {"time", "level", "logger", "message", "request_id"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


def test_log_lines_are_json_with_the_request_id_of_their_request(tmp_path: Path) -> None:
    env = {"LOGISTIC_ACCESS_LOG_SAMPLE": "1"}
    with running_service(env, tmp_path) as service:
        fast = service.request("GET", "/query?sno=1", {"X-Request-ID": "trace-fast-1"})
        flask = service.request("GET", "/query?sno=x", {"X-Request-ID": "trace-flask-2"})
        made = service.request("GET", "/healthz", {"X-Request-ID": "not valid!"})
        time.sleep(0.5)
        entries = _json_lines(service)

    assert fast.status == 404
    assert fast.header("X-Request-ID") == "trace-fast-1"
    assert flask.header("X-Request-ID") == "trace-flask-2"
    made_id = made.header("X-Request-ID")
    assert made_id is not None
    assert len(made_id) == 32
    by_id = {
        entry["request_id"]: entry for entry in entries if entry["logger"] == "logistic.access"
    }
    assert by_id["trace-fast-1"]["route"] == "/query"
    assert by_id["trace-fast-1"]["status"] == 404
    assert by_id["trace-fast-1"]["duration_ms"] > 0
    assert by_id["trace-flask-2"]["status"] == 400
    assert by_id[made_id]["route"] == "/healthz"
    outside = [entry for entry in entries if entry["logger"] != "logistic.access"]
    assert outside, "the server's own lines are JSON too"
    assert all(entry["request_id"] == "-" for entry in outside)


def test_text_logs_carry_the_request_id_and_access_lines_are_off_by_default(
    tmp_path: Path,
) -> None:
    with running_service({"LOGISTIC_LOG_FORMAT": "text"}, tmp_path) as quiet:
        quiet.request("GET", "/healthz", {"X-Request-ID": "trace-quiet"})
        time.sleep(0.5)
        assert "trace-quiet" not in quiet.log()
    env = {"LOGISTIC_LOG_FORMAT": "text", "LOGISTIC_ACCESS_LOG_SAMPLE": "1"}
    with running_service(env, tmp_path) as service:
        service.request("GET", "/healthz", {"X-Request-ID": "trace-text"})
        time.sleep(0.5)
        log = service.log()

    line = next(line for line in log.splitlines() if "[trace-text]" in line)
    assert "INFO logistic.access [trace-text]: GET /healthz 200" in line
