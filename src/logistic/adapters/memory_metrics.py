"""MetricsStore in memory: one process's totals (tests, and library users with no files)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

from logistic.ports.metrics_store import Family, Kind, Reading


class MemoryMetricsStore:
    def __init__(self, families: Sequence[Family]) -> None:
        self._families = tuple(families)
        self._lock = threading.Lock()
        self._reading = Reading({}, {}, {})

    def clear(self) -> None:
        with self._lock:
            self._reading = Reading({}, {}, {})

    def write(self, reading: Reading) -> None:
        with self._lock:
            self._reading = reading

    def exposition(self) -> bytes:
        with self._lock:
            reading = self._reading
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(self._families, reading))
        return generate_latest(registry)


class _Families:
    def __init__(self, families: Sequence[Family], reading: Reading) -> None:
        self._families = families
        self._reading = reading

    def collect(self) -> Iterator[Metric]:
        # By name: the container hands this store copies of the families the meter uses.
        metrics = {
            family.name: Metric(family.name, family.help, family.kind) for family in self._families
        }
        for (family, labels), value in self._reading.values.items():
            sample = f"{family.name}_total" if family.kind is Kind.COUNTER else family.name
            named = dict(zip(family.labels, labels, strict=True))
            metrics[family.name].add_sample(sample, named, value)
        for (family, labels), distribution in self._reading.distributions.items():
            named = dict(zip(family.labels, labels, strict=True))
            running = 0
            bounds = (*family.buckets, math.inf)
            for bound, count in zip(bounds, distribution.counts, strict=True):
                running += count
                metrics[family.name].add_sample(
                    f"{family.name}_bucket", {**named, "le": floatToGoString(bound)}, running
                )
            metrics[family.name].add_sample(f"{family.name}_sum", named, distribution.total)
            metrics[family.name].add_sample(f"{family.name}_count", named, running)
        yield from metrics.values()
