"""What the service counts, kept in the process and read out now and then (MetricsStore).

A request counts in a few dictionary updates under one lock: writing each count
through to the multiprocess files at once would cost the cached lookup a share
of its CPU (docs/performance.md). A `Meter` built switched off counts nothing.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left

from logistic.ports.metrics_store import Distribution, Family, Kind, Labelled, Reading

# From 0.1 ms to 50 ms, where the service's answers fall, then a few slow ones.
REQUEST_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
)  # fmt: skip
REPORT_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)

REQUESTS = Family(
    "logistic_http_requests", Kind.COUNTER, "HTTP requests answered", ("route", "status")
)
REQUEST_SECONDS = Family(
    "logistic_http_request_duration_seconds",
    Kind.HISTOGRAM,
    "Time to answer an HTTP request, by route",
    ("route",),
    REQUEST_BUCKETS,
)
RATE_LIMITED = Family(
    "logistic_rate_limited_requests", Kind.COUNTER, "Requests refused over the quota", ("route",)
)
CACHE_LOOKUPS = Family(
    "logistic_cache_lookups",
    Kind.COUNTER,
    "Cache reads by outcome: hit, miss, or error (the cache unreachable)",
    ("outcome",),
)
DATABASE_ERRORS = Family(
    "logistic_database_errors",
    Kind.COUNTER,
    "Database errors by kind: deadlock, disconnect (unreachable) or other",
    ("kind",),
)
DEADLOCK_RETRIES = Family(
    "logistic_database_deadlock_retries",
    Kind.COUNTER,
    "Write transactions tried again after the database broke a deadlock",
)
EVENTS_RECORDED = Family(
    "logistic_events_recorded", Kind.COUNTER, "Tracking events recorded, by status", ("status",)
)
FAKE_ORDERS = Family("logistic_fake_orders", Kind.COUNTER, "Orders made by /fake")
REPORT_RUNS = Family(
    "logistic_report_runs",
    Kind.COUNTER,
    "Report productions by outcome: published, already_published, taken or failed",
    ("outcome",),
)
REPORT_SECONDS = Family(
    "logistic_report_run_duration_seconds",
    Kind.HISTOGRAM,
    "Time to produce a report slot",
    (),
    REPORT_BUCKETS,
)
LAST_PUBLISHED_SLOT = Family(
    "logistic_report_last_published_slot_timestamp_seconds",
    Kind.GAUGE,
    "Start of the latest report slot published, in seconds since the epoch",
)
# The webhook dispatcher's (issue 22): defined here so every process exports one catalogue.
WEBHOOK_DELIVERIES = Family(
    "logistic_webhook_deliveries",
    Kind.COUNTER,
    "Webhook deliveries by outcome: delivered, failed or given_up",
    ("outcome",),
)
WEBHOOK_BACKLOG_AGE = Family(
    "logistic_webhook_oldest_undelivered_age_seconds",
    Kind.GAUGE,
    "Age of the oldest webhook message not delivered yet (0 when none waits)",
)

FAMILIES: tuple[Family, ...] = (
    REQUESTS,
    REQUEST_SECONDS,
    RATE_LIMITED,
    CACHE_LOOKUPS,
    DATABASE_ERRORS,
    DEADLOCK_RETRIES,
    EVENTS_RECORDED,
    FAKE_ORDERS,
    REPORT_RUNS,
    REPORT_SECONDS,
    LAST_PUBLISHED_SLOT,
    WEBHOOK_DELIVERIES,
    WEBHOOK_BACKLOG_AGE,
)


class Meter:
    """Counts of one process, safe to use from every thread; `reading()` copies them."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._values: dict[Labelled, float] = {}
        self._histograms: dict[Labelled, list[float]] = {}
        self._set_at: dict[Labelled, float] = {}

    def add(self, family: Family, *labels: str, amount: float = 1.0) -> None:
        if not self.enabled:
            return
        key = (family, labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def observe(self, family: Family, value: float, *labels: str) -> None:
        """One value into the histogram `family` (its last slot holds the sum)."""
        if not self.enabled:
            return
        key = (family, labels)
        index = bisect_left(family.buckets, value)
        with self._lock:
            slots = self._histograms.get(key)
            if slots is None:
                slots = self._histograms[key] = [0.0] * (len(family.buckets) + 2)
            slots[index] += 1
            slots[-1] += value

    def set(self, family: Family, value: float, *labels: str) -> None:
        if not self.enabled:
            return
        key = (family, labels)
        with self._lock:
            self._values[key] = value
            self._set_at[key] = time.time()

    def reading(self) -> Reading:
        with self._lock:
            values = dict(self._values)
            slots = {key: list(counts) for key, counts in self._histograms.items()}
            set_at = dict(self._set_at)
        distributions = {
            key: Distribution(tuple(int(count) for count in counts[:-1]), counts[-1])
            for key, counts in slots.items()
        }
        return Reading(values, distributions, set_at)


# For the services built without a meter (tests, library users): counts nothing.
SILENT = Meter(enabled=False)


def status_class(status: int) -> str:
    return f"{status // 100}xx"
