"""One contract for every MetricsStore: in memory, and prometheus_client's multiprocess files."""

from __future__ import annotations

import copy
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from logistic.adapters.memory_metrics import MemoryMetricsStore
from logistic.adapters.prometheus_files import PrometheusFiles
from logistic.ports.metrics_store import Family, Kind, MetricsStore
from logistic.services.metering import Meter

HITS = Family("test_hits", Kind.COUNTER, "hits", ("route",))
TIMES = Family("test_seconds", Kind.HISTOGRAM, "times", ("route",), (0.001, 0.01))
LEVEL = Family("test_level", Kind.GAUGE, "level")
QUIET = Family("test_quiet", Kind.COUNTER, "never counted")
FAMILIES = (HITS, TIMES, LEVEL, QUIET)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(params=["memory", "files"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetricsStore]:
    # Copies, as the container hands them over: the meter counts under the originals.
    families = copy.deepcopy(FAMILIES)
    if request.param == "memory":
        yield MemoryMetricsStore(families)
    else:
        files = PrometheusFiles(tmp_path / "metrics", families)
        files.clear()
        yield files


def _samples(store: MetricsStore) -> Samples:
    text = store.exposition().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _counted(meter: Meter) -> Meter:
    meter.add(HITS, "/query", amount=3)
    meter.add(HITS, "/fake")
    for value in (0.0005, 0.005, 0.005, 2.0):
        meter.observe(TIMES, value, "/query")
    meter.set(LEVEL, 7.0)
    return meter


def test_the_exposition_shows_counters_histograms_and_gauges(store: MetricsStore) -> None:
    store.write(_counted(Meter()).reading())

    samples = _samples(store)

    assert samples[("test_hits_total", frozenset({("route", "/query")}))] == 3
    assert samples[("test_hits_total", frozenset({("route", "/fake")}))] == 1
    buckets = {
        le: samples[("test_seconds_bucket", frozenset({("route", "/query"), ("le", le)}))]
        for le in ("0.001", "0.01", "+Inf")
    }
    assert buckets == {"0.001": 1, "0.01": 3, "+Inf": 4}
    assert samples[("test_seconds_count", frozenset({("route", "/query")}))] == 4
    assert samples[("test_seconds_sum", frozenset({("route", "/query")}))] == pytest.approx(2.0105)
    assert samples[("test_level", frozenset())] == 7.0


def test_a_later_write_replaces_the_totals_and_clear_forgets_them(store: MetricsStore) -> None:
    meter = _counted(Meter())
    store.write(meter.reading())
    meter.add(HITS, "/query")
    store.write(meter.reading())

    assert _samples(store)[("test_hits_total", frozenset({("route", "/query")}))] == 4

    store.clear()
    assert ("test_hits_total", frozenset({("route", "/query")})) not in _samples(store)


def test_every_family_is_described_even_before_any_count(store: MetricsStore) -> None:
    text = store.exposition().decode()

    for family in ("test_hits_total", "test_seconds", "test_level", "test_quiet_total"):
        assert f"# TYPE {family} " in text


def _write_in_another_process(directory: Path) -> None:
    PrometheusFiles(directory, FAMILIES).write(_counted(Meter()).reading())


def test_the_files_of_several_processes_are_summed_and_the_last_gauge_shown(
    tmp_path: Path,
) -> None:
    files = PrometheusFiles(tmp_path / "metrics", FAMILIES)
    files.clear()
    child = multiprocessing.get_context("fork").Process(
        target=_write_in_another_process, args=(files.directory,)
    )
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0
    meter = _counted(Meter())
    meter.set(LEVEL, 2.0)  # set after the other process's 7
    files.write(meter.reading())

    samples = _samples(files)

    assert samples[("test_hits_total", frozenset({("route", "/query")}))] == 6
    assert samples[("test_seconds_count", frozenset({("route", "/query")}))] == 8
    assert samples[("test_level", frozenset())] == 2.0
    assert len(list(files.directory.glob("counter_*.db"))) == 2


def test_a_directory_cleared_under_a_process_is_filled_again_at_its_next_write(
    tmp_path: Path,
) -> None:
    files = PrometheusFiles(tmp_path / "metrics", FAMILIES)
    meter = _counted(Meter())
    files.write(meter.reading())
    files.clear()
    files.write(meter.reading())

    assert _samples(files)[("test_hits_total", frozenset({("route", "/query")}))] == 3
