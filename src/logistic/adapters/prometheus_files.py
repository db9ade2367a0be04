"""MetricsStore in prometheus_client's multiprocess files (PROMETHEUS_MULTIPROC_DIR's format).

Each process writes its totals into files of its own (`counter_<pid>.db`,
`histogram_<pid>.db`, `gauge_mostrecent_<pid>.db`) with the library's own
MmapedDict and keys, and any process reads them all with its MultiProcessCollector.
The files are opened for each write: a directory cleared by a starting server is
filled again at the next write, with every total.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

from logistic.ports.metrics_store import Family, Kind, Reading

# The type of each kind's file, as MultiProcessCollector reads it from the file's name.
_FILE_TYPES = {
    Kind.COUNTER: "counter",
    Kind.HISTOGRAM: "histogram",
    Kind.GAUGE: "gauge_mostrecent",
}

Entry = tuple[str, float, float]  # key, value, timestamp


class PrometheusFiles:
    def __init__(self, directory: Path, families: Sequence[Family]) -> None:
        self._directory = directory
        self._families = tuple(families)
        # MmapedDict is not thread safe: a scrape and the periodic write may meet.
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        return self._directory

    def clear(self) -> None:
        """Forget every process's counts (at the start, before any process writes)."""
        self._directory.mkdir(parents=True, exist_ok=True)
        for path in self._directory.glob("*.db"):
            path.unlink(missing_ok=True)

    def write(self, reading: Reading) -> None:
        files: dict[str, list[Entry]] = {kind: [] for kind in _FILE_TYPES.values()}
        for (family, labels), value in reading.values.items():
            stamp = reading.set_at.get((family, labels), 0.0)
            sample = f"{family.name}_total" if family.kind is Kind.COUNTER else family.name
            key = mmap_key(family.name, sample, list(family.labels), list(labels), family.help)
            files[_FILE_TYPES[family.kind]].append((key, value, stamp))
        for (family, labels), distribution in reading.distributions.items():
            entries = files[_FILE_TYPES[Kind.HISTOGRAM]]
            names = [*family.labels, "le"]
            bounds = (*family.buckets, math.inf)
            for bound, count in zip(bounds, distribution.counts, strict=True):
                values = [*labels, floatToGoString(bound)]
                key = mmap_key(family.name, f"{family.name}_bucket", names, values, family.help)
                entries.append((key, float(count), 0.0))
            key = mmap_key(
                family.name, f"{family.name}_sum", list(family.labels), list(labels), family.help
            )
            entries.append((key, distribution.total, 0.0))
        pid = os.getpid()
        with self._lock:
            self._directory.mkdir(parents=True, exist_ok=True)
            for kind, entries in files.items():
                if entries:
                    _write_file(self._directory / f"{kind}_{pid}.db", entries)

    def exposition(self) -> bytes:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_EveryFamily(self._directory, self._families))
        return generate_latest(registry)


def _write_file(path: Path, entries: Iterable[Entry]) -> None:
    values = MmapedDict(str(path))
    try:
        for key, value, stamp in entries:
            values.write_value(key, value, stamp)
    finally:
        values.close()


class _EveryFamily:
    """What every process wrote, summed by MultiProcessCollector, and the families none
    has written yet (their help and type, without samples)."""

    def __init__(self, directory: Path, families: Sequence[Family]) -> None:
        self._directory = directory
        self._families = families

    def collect(self) -> Iterator[Metric]:
        found = {
            metric.name: metric
            for metric in MultiProcessCollector.merge(
                [str(path) for path in sorted(self._directory.glob("*.db"))]
            )
        }
        for family in self._families:
            yield found.pop(family.name, None) or Metric(family.name, family.help, family.kind)
        yield from found.values()
