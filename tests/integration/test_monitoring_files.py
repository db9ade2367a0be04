"""The shipped Prometheus config, alert rules and Grafana dashboard (deploy/prometheus,
deploy/grafana): promtool accepts them, the rules' own unit tests pass, and every
query names a metric the service exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from logistic.ports.metrics_store import Kind
from logistic.services.metering import FAMILIES
from tests.services import require

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "logistic.json"
METRIC = re.compile(r"\blogistic_[a-z0-9_]+")


def _exported() -> set[str]:
    """Every series name the service's /metrics may show."""
    names = set()
    for family in FAMILIES:
        if family.kind is Kind.COUNTER:
            names.add(f"{family.name}_total")
        elif family.kind is Kind.HISTOGRAM:
            names.update(f"{family.name}_{part}" for part in ("bucket", "sum", "count"))
        else:
            names.add(family.name)
    return names


def _promtool(*arguments: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    require("promtool", None if promtool else "not installed (Debian's prometheus package)")
    assert promtool is not None
    return subprocess.run(
        [promtool, *arguments], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ("check", "config", "prometheus.yml"),
        ("check", "rules", "alerts.yml"),
        ("test", "rules", "alerts_test.yml"),
    ],
    ids=["config", "rules", "rule-tests"],
)
def test_promtool_accepts_the_shipped_files(arguments: tuple[str, ...]) -> None:
    done = _promtool(*arguments)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_rule_tests_cover_the_missed_slot_and_the_5xx_ratio() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert {"LogisticReportSlotMissed", "LogisticServerErrors"} <= tested


def test_the_scrape_config_has_the_api_the_scheduler_and_the_dispatcher() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {"logistic-api", "logistic-scheduler", "logistic-dispatcher"}


def test_every_alert_names_metrics_the_service_exports() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in _names(rule["expr"])
    }
    assert used, "no logistic metric in the rules"
    assert used <= _exported(), used - _exported()


def _names(expr: str) -> set[str]:
    return set(METRIC.findall(expr))


def _targets(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_is_json_whose_every_query_names_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = _targets(dashboard)
    assert expressions
    for expr in expressions:
        names = _names(expr)
        assert names, f"{expr!r} names no logistic metric"
        assert names <= _exported(), f"{expr!r}: {names - _exported()} are not exported"


def test_the_dashboard_shows_what_the_issue_asks_for() -> None:
    queried = " ".join(_targets(json.loads(DASHBOARD.read_text())))
    for wanted in (
        "logistic_http_requests_total",
        "logistic_http_request_duration_seconds_bucket",
        "logistic_cache_lookups_total",
        "logistic_report_runs_total",
        "logistic_webhook_oldest_undelivered_age_seconds",
    ):
        assert wanted in queried
