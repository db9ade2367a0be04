"""The in-process counts: histograms by bucket, gauges with their time, exact across threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from logistic.ports.metrics_store import Family, Kind
from logistic.services.metering import REQUEST_BUCKETS, Meter, status_class

COUNTS = Family("test_counts", Kind.COUNTER, "counts", ("kind",))
TIMES = Family("test_seconds", Kind.HISTOGRAM, "times", (), (0.001, 0.01))
LEVEL = Family("test_level", Kind.GAUGE, "level")


def test_a_value_on_a_bound_falls_in_that_bucket_and_above_all_in_the_last() -> None:
    meter = Meter()
    for value in (0.0005, 0.001, 0.002, 0.01, 3.0):
        meter.observe(TIMES, value)

    distribution = meter.reading().distributions[(TIMES, ())]

    assert distribution.counts == (2, 2, 1)
    assert distribution.total == 0.0005 + 0.001 + 0.002 + 0.01 + 3.0


def test_counts_from_many_threads_are_all_kept() -> None:
    meter = Meter()

    def count(_: int) -> None:
        for _ in range(2000):
            meter.add(COUNTS, "a")
            meter.observe(TIMES, 0.005)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(count, range(8)))

    reading = meter.reading()
    assert reading.values[(COUNTS, ("a",))] == 16000
    assert sum(reading.distributions[(TIMES, ())].counts) == 16000


def test_a_gauge_keeps_its_last_value_and_when_it_was_set() -> None:
    meter = Meter()
    meter.set(LEVEL, 5.0)
    meter.set(LEVEL, 3.0)

    reading = meter.reading()

    assert reading.values[(LEVEL, ())] == 3.0
    assert reading.set_at[(LEVEL, ())] > 0


def test_a_meter_switched_off_counts_nothing() -> None:
    meter = Meter(enabled=False)
    meter.add(COUNTS, "a")
    meter.observe(TIMES, 0.1)
    meter.set(LEVEL, 1.0)

    reading = meter.reading()

    assert not reading.values
    assert not reading.distributions


def test_request_buckets_span_a_tenth_of_a_millisecond_to_fifty() -> None:
    assert REQUEST_BUCKETS[0] == 0.0001
    assert 0.05 in REQUEST_BUCKETS
    assert list(REQUEST_BUCKETS) == sorted(REQUEST_BUCKETS)
    assert [status_class(code) for code in (200, 304, 429, 503)] == ["2xx", "3xx", "4xx", "5xx"]
