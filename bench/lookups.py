"""The bench's figures of issue 20's lookups: a poller's 304 beside a cache hit, and a batch
of 50 snos beside single lookups, in snos per second, cached and not (bench/wrk/
not_modified.lua and batch.lua; docs/performance.md says what they mean)."""

from __future__ import annotations

import http.client
import json

from bench.figures import Bound, FigureTable

BATCH = 50
# (ratio, figure over, figure under, the least it may be), the misses' names for a size.
TARGETS = (
    ("304 c8 / hit c8", "304 c8", "hit c8", 1.0),
    ("batch of 50 hits / hit c8, snos/s", "batch of 50 hits c8", "hit c8", 5.0),
)


def miss_target(label: str) -> tuple[str, str, str, float]:
    return (
        f"batch of 50 misses / miss c8 ({label}), snos/s",
        f"batch of 50 misses c8 ({label})",
        f"miss c8 ({label})",
        3.0,
    )


def etag_of(port: int, sno: int) -> str:
    """The ETag of sno's /query body (asking caches it, as a hit run needs)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", f"/query?sno={sno}")
        response = connection.getresponse()
        response.read()
        etag = response.getheader("ETag")
    finally:
        connection.close()
    if response.status != 200 or not etag:
        raise SystemExit(f"/query?sno={sno}: {response.status}, ETag {etag!r}")
    return etag


def warm_batch(port: int, size: int = BATCH) -> None:
    """Asks snos 1..size once in a batch, so that batch.lua's hit mode finds them cached."""
    body = json.dumps({"snos": list(range(1, size + 1))})
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/query", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = json.loads(response.read())
    finally:
        connection.close()
    missing = [item for item in data.get("data", []) if "error" in item]
    if response.status != 200 or missing:
        raise SystemExit(f"POST /query: {response.status}, {len(missing)} snos not found")


def lookup_ratios(table: FigureTable, label: str) -> None:
    """The ratios of these figures, round by round, each judged against its target."""
    for name, top, bottom, least in (*TARGETS, miss_target(label)):
        table.ratio(name, top, bottom)
        ratio = table.ratios.get(name)
        if ratio is not None:
            ratio.target = f"≥ {least:g}"
            # Two figures of one machine and one run: the ratio does not scale.
            ratio.bound = Bound(least, at_least=True, scales=False)
    # What a 304 costs the service beside a hit: the workers' CPU, no more than a hit's.
    table.cpu_ratio("304 c8 / hit c8 (workers' CPU per request)", "304 c8", "hit c8", 1.0)
