"""The scheduler's own counts: on a port of its own (`--metrics-port`), or in the directory
the API's /metrics reads."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.servers import LOGISTIC, stop_gracefully
from tests.integration.test_report_scheduling import environment
from tests.services import free_port

WAIT_SECONDS = 30.0
PUBLISHED = ("logistic_report_runs_total", (("outcome", "published"),))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@contextmanager
def _scheduler(env: dict[str, str], log: Path, *options: str) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LOGISTIC, "scheduler", *options], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        assert stop_gracefully(process) == 0, log.read_text()


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=5) as reply:
        assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return _samples(reply.read().decode())


def _until_published(url: str, log: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            samples = _scrape(url)
            if samples.get(PUBLISHED):
                return samples
        except (urllib.error.URLError, ConnectionError):
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


@pytest.mark.slow
def test_the_scheduler_serves_its_report_runs_on_its_metrics_port(tmp_path: Path) -> None:
    env = environment(tmp_path)
    subprocess.run([LOGISTIC, "seed", "--orders", "20"], env=env, check=True, capture_output=True)
    port = free_port()
    log = tmp_path / "scheduler.log"
    url = f"http://127.0.0.1:{port}/metrics"

    with _scheduler(env, log, "--metrics-port", str(port)):
        samples = _until_published(url, log)
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)

    assert elsewhere.value.code == 404
    assert samples[PUBLISHED] == 1
    assert samples[("logistic_report_run_duration_seconds_count", ())] == 1
    published = samples[("logistic_report_last_published_slot_timestamp_seconds", ())]
    assert time.time() - 8 * 3600 <= published <= time.time()
    # Its counts stay out of the directory the API's /metrics reads.
    assert not list((tmp_path / "metrics").rglob("*.db"))


@pytest.mark.slow
def test_without_a_port_the_scheduler_writes_into_the_apis_directory(tmp_path: Path) -> None:
    env = environment(tmp_path)
    subprocess.run([LOGISTIC, "seed", "--orders", "20"], env=env, check=True, capture_output=True)
    log = tmp_path / "scheduler.log"

    with _scheduler(env, log):
        deadline = time.monotonic() + WAIT_SECONDS
        while not list((tmp_path / "metrics" / "3000").glob("counter_*.db")):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)


@pytest.mark.slow
def test_logistic_run_shows_its_schedulers_report_runs_in_its_metrics(tmp_path: Path) -> None:
    env = environment(tmp_path)
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LOGISTIC, "run", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        samples = _until_published(f"http://127.0.0.1:{port}/metrics", log)
    finally:
        assert stop_gracefully(process, timeout=60) == 0, log.read_text()

    assert samples[PUBLISHED] == 1
