"""Where each process's counts are kept, so that one scrape shows every process's."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Protocol

from attrs import field, frozen


class Kind(enum.StrEnum):
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"  # across processes, the value set last is shown


# Compared and hashed by identity: each is a constant, and a request's counts look
# one up several times (an attrs hash of every field cost a microsecond each).
@frozen(eq=False)
class Family:
    """One metric: its name (counters without `_total`), help, label names, buckets."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = field(default=())


Labelled = tuple[Family, tuple[str, ...]]


@frozen
class Distribution:
    """A histogram's counts per bucket (not cumulative; the last one above every bound)."""

    counts: tuple[int, ...]
    total: float


@frozen
class Reading:
    """Everything a process has counted since it started."""

    values: Mapping[Labelled, float]  # counters and gauges
    distributions: Mapping[Labelled, Distribution]
    set_at: Mapping[Labelled, float]  # when each gauge was set, in seconds since the epoch


class MetricsStore(Protocol):
    """The totals of every process of one host, in the Prometheus text format.

    `write` replaces this process's totals with `reading` (a process only ever
    writes totals that grew: counts since it started); `exposition` shows every
    family of `families`, with the counts and histograms of all the processes that
    wrote summed and a gauge at the value set last by any. A process that ended keeps its
    counts until the store is cleared at the service's start. Raises OSError when
    the store cannot be written or read.
    """

    def clear(self) -> None:
        """Forget every process's counts (a server's master, before its workers start)."""
        ...

    def write(self, reading: Reading) -> None: ...

    def exposition(self) -> bytes:
        """Every family in the text format (version 0.0.4), UTF-8."""
        ...
