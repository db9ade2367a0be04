"""Scans in bulk against scans one by one, side by side: events/s through POST /events in
batches of 500 and through POST /shipments/<sno>/events at c8 (docs/performance.md,
"Batch ingest").

Both write "In Transit" to orders made for the purpose (Created, Package Received, In
Transit: another hop may always follow), so that every event is one the lifecycle
takes. The single events come from wrk (bench/wrk/event.lua, random orders, the
server's time); the batches from BATCH_CLIENTS threads here, each sending its own
orders (no two batches wait on one order), each item stamped with the time it is sent.
Only events answered 201 are counted.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.figures import Bound, FigureTable
from bench.load import WrkRun, record, wrk
from logistic.container import Container
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status
from logistic.ports.repositories import NewShipment
from logistic.settings import Settings

ORDERS = 20_000
BATCH = 500
BATCH_CLIENTS = 2
SINGLE = "events one by one c8"
BATCHES = f"events in batches of {BATCH}, c{BATCH_CLIENTS}"
RATIO = f"events: batches of {BATCH} / one by one c8"
_CONTACT = Contact("王小明", "0912345678", "臺北市大安區忠孝東路四段1號")


def ingest_cases(bench: Any, url: str, key: str) -> list[tuple[str, Callable[[], None]]]:
    """The two runs, for bench.run's rounds (none unless --only asks for "events")."""
    if not bench.wanted("events"):
        return []
    table: FigureTable = bench.table
    single = table.figure(SINGLE, "events/s")
    batches = table.figure(
        BATCHES, "events/s", target="≥ 5,000 events/s", bound=Bound(5000, at_least=True)
    )
    orders: list[range] = []

    def made() -> range:
        if not orders:
            orders.append(new_orders(bench.env))
        return orders[0]

    def one_by_one() -> None:
        snos = made()
        args = [str(snos.start), str(len(snos)), key]
        done = wrk(url, "event.lua", args, 8, bench.args.duration)
        answered = done.rps * bench.args.duration
        rate = done.rps * (1 - done.errors / answered) if answered else 0.0
        record(single, WrkRun(rate, done.p50_ms, done.p99_ms, done.errors))
        _ratio(table)

    def in_batches() -> None:
        record(batches, send_batches(url, key, made(), bench.args.duration))
        _ratio(table)

    return [(SINGLE, one_by_one), (BATCHES, in_batches)]


def _ratio(table: FigureTable) -> None:
    table.ratio(RATIO, BATCHES, SINGLE)
    ratio = table.ratios.get(RATIO)
    if ratio is not None:
        ratio.target = "≥ 10"
        # Two rates of the same machine: the ratio does not scale.
        ratio.bound = Bound(10, at_least=True, scales=False)


def new_orders(env: dict[str, str]) -> range:
    """ORDERS new orders, In Transit since an hour ago: their snos."""
    container = Container(settings=Settings.from_environ(env))
    try:
        start = datetime.now(UTC) - timedelta(hours=2)
        steps = (Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT)
        events = tuple(
            TrackingEvent(status, 2, start + timedelta(minutes=20 * step))
            for step, status in enumerate(steps)
        )
        new = NewShipment(
            _CONTACT, PlannedShipment(2, 13, start, events), promised_by=start + timedelta(days=2)
        )
        snos = [container.shipments().add_in_bulk([new] * 2000) for _ in range(ORDERS // 2000)]
    finally:
        container.shutdown_resources()
    return range(snos[0].start, snos[-1].stop)


def send_batches(url: str, key: str, snos: range, seconds: int) -> WrkRun:
    """BATCH_CLIENTS clients sending batches of their own orders for `seconds`."""
    host, port = url.removeprefix("http://").split(":")
    latencies: list[float] = []
    applied = [0] * BATCH_CLIENTS
    refused = [0] * BATCH_CLIENTS
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds
    ended = [started] * BATCH_CLIENTS
    failures: list[str] = []

    def client(index: int) -> None:
        own = snos[index::BATCH_CLIENTS]
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        sent = 0
        while time.perf_counter() < deadline:
            now = datetime.now(UTC).isoformat()
            items = [
                {"sno": own[(sent + k) % len(own)], "status": "In Transit",
                 "location_id": 1 + (sent + k) % 18, "occurred_at": now}
                for k in range(BATCH)
            ]  # fmt: skip
            sent += BATCH
            began = time.perf_counter()
            connection.request("POST", "/events", json.dumps({"events": items}), headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                failures.append(f"POST /events: {response.status} {body[:300]!r}")
                return
            ended[index] = time.perf_counter()
            summary = json.loads(body)["data"]["summary"]
            applied[index] += summary["applied"]
            refused[index] += summary["refused"]
            with lock:
                latencies.append((ended[index] - began) * 1000)
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(BATCH_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    elapsed = max(ended) - started
    rate = sum(applied) / elapsed if elapsed > 0 else 0.0
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    return WrkRun(rate, statistics.median(latencies), p99, sum(refused))
