"""The webhooks bench: what an event costs with subscriptions, how fast a dispatcher
delivers, and how long an event takes from its commit to its arrival.

    .venv/bin/python -m bench.webhooks [--database-url mysql+mysqldb://root@127.0.0.1/logistic_bench_webhooks]

On MariaDB (a database of its own, created if missing and emptied of webhooks first):
1. recording: events recorded back to back through the Recording service, with five
   subscriptions disabled and then enabled (their outbox rows written in the same
   transaction), in interleaved rounds of fresh orders; the median of the rounds' ratios;
2. throughput: N messages queued at once, `logistic dispatcher` started, the time
   until the receiver (a separate process answering 204 at once) got them all;
3. latency: events recorded at a steady rate (by a pool of threads, as a server's
   workers would) while the dispatcher runs; for each, the receiver's arrival time
   minus the message's timestamp (taken in the transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import statistics
import subprocess
import sys
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeAlias

from sqlalchemy import create_engine as sa_engine
from sqlalchemy import delete, make_url, text

from bench.processes import BIN, free_port
from logistic.adapters.sql.tables import webhook_attempts, webhook_messages, webhook_subscriptions
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, TrackingEvent
from logistic.domain.status import Status
from logistic.domain.webhook import NewMessage
from logistic.ports.repositories import NewShipment
from logistic.services.events import Scan
from logistic.settings import Settings

DEFAULT_DATABASE = "mysql+mysqldb://root@127.0.0.1:3306/logistic_bench_webhooks?charset=utf8mb4"
# Each arrival's wall time and the message's timestamp, from the receiver's process.
Arrivals: TypeAlias = "multiprocessing.Queue[tuple[float, str]]"
WALK = (Status.PACKAGE_RECEIVED, Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.DELIVERED)


def _receive(port: int, arrivals: Arrivals) -> None:
    """A receiver answering 204 at once (asyncio, keep-alive), reporting each arrival's
    wall time and the message's timestamp."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            arrived = time.time()
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            stamp = json.loads(body)["timestamp"]
            arrivals.put((arrived, stamp))

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _guarded(serve(r, w)), "127.0.0.1", port, backlog=1024
        )
        async with server:
            await server.serve_forever()

    async def _guarded(work: Coroutine[None, None, None]) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await work

    asyncio.run(main())


def _container(env: dict[str, str]) -> Container:
    return Container(settings=Settings.from_environ(env))


def _shipments(container: Container, count: int) -> list[int]:
    now = container.clock().now()
    start = now - timedelta(hours=2)
    plan = PlannedShipment(2, 17, start, (TrackingEvent(Status.CREATED, 2, start),))
    new = NewShipment(Contact("李小明", "0966123401", "台北市"), plan, now + timedelta(days=3))
    snos: list[int] = []
    while len(snos) < count:
        stored = container.shipments().add_many([new] * min(100, count - len(snos)))
        snos += [shipment.sno for shipment in stored]
    return snos


def _record_all(container: Container, snos: Sequence[int], step: int) -> float:
    """Record the `step`-th event of WALK on every order, back to back; events/s."""
    recording = container.recording()
    started = time.perf_counter()
    for sno in snos:
        recording.record(sno, Scan(WALK[step], 17))
    return len(snos) / (time.perf_counter() - started)


# The recording side of the latency run: processes, as a server's workers, each with
# threads enough that commits waiting on the disk overlap.
RECORDING_PROCESSES = 2
RECORDERS = 8
_recorder: Container | None = None


def _start_recorder(env: dict[str, str]) -> None:
    global _recorder
    _recorder = _container(env)
    _recorder.recording()


def _record_share(share: Sequence[tuple[int, int]], step: int, rate: float, start: float) -> None:
    """In a recording process: record the `step`-th event of WALK on each (index, sno) of
    `share`, the one of index n at wall time `start` + n / `rate`."""
    assert _recorder is not None
    recording = _recorder.recording()

    def record(index: int, sno: int) -> None:
        pause = start + index / rate - time.time()
        if pause > 0:
            time.sleep(pause)
        recording.record(sno, Scan(WALK[step], 17))

    with ThreadPoolExecutor(RECORDERS) as pool:
        for done in [pool.submit(record, index, sno) for index, sno in share]:
            done.result()


def _record_paced(pool: ProcessPoolExecutor, snos: Sequence[int], step: int, rate: float) -> float:
    """Record the `step`-th event of WALK on every order, the n-th due n / `rate` seconds
    after the start, shared among the recording processes; events/s achieved."""
    start = time.time() + 0.2
    indexed = list(enumerate(snos))
    shares = [indexed[k::RECORDING_PROCESSES] for k in range(RECORDING_PROCESSES)]
    for done in [pool.submit(_record_share, share, step, rate, start) for share in shares]:
        done.result()
    return len(snos) / (time.time() - start)


def _recording_ratio(
    container: Container, subscriptions: Sequence[str], events: int, rounds: int
) -> tuple[float, float, float]:
    """Events/s with the subscriptions disabled, with them enabled (medians), and the
    median of the rounds' time-per-event ratios; each round records on fresh orders,
    the two sides in alternating order."""
    webhooks = container.webhooks()
    bare_rates: list[float] = []
    five_rates: list[float] = []
    for index in range(rounds):
        sides = [False, True] if index % 2 == 0 else [True, False]
        for enabled in sides:
            for subscription in subscriptions:
                webhooks.change(subscription, enabled=enabled)
            rate = _record_all(container, _shipments(container, events), 0)
            (five_rates if enabled else bare_rates).append(rate)
    ratios = [bare / five for bare, five in zip(bare_rates, five_rates, strict=True)]
    return statistics.median(bare_rates), statistics.median(five_rates), statistics.median(ratios)


def _empty_webhooks(url: str) -> None:
    engine = sa_engine(url)
    with engine.begin() as connection:
        for table in (webhook_attempts, webhook_messages, webhook_subscriptions):
            connection.execute(delete(table))
    engine.dispose()


def _subscribe(container: Container, url: str, count: int) -> list[str]:
    return [container.webhooks().subscribe(url, (), f"bench {n}", False).id for n in range(count)]


def _dispatcher(env: dict[str, str], home: Path) -> subprocess.Popen[bytes]:
    log = (home / "dispatcher.log").open("ab")
    return subprocess.Popen(
        [str(BIN / "logistic"), "dispatcher"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def _drain(arrivals: Arrivals, wanted: int, timeout_s: float) -> list[tuple[float, str]]:  # type: ignore[type-arg]
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < wanted and time.monotonic() < deadline:
        try:
            got.append(arrivals.get(timeout=0.5))
        except queue.Empty:
            continue
    return got


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--home", default="/tmp/logistic-bench-webhooks")
    parser.add_argument("--events", type=int, default=300, help="events per recording round")
    parser.add_argument("--rounds", type=int, default=6, help="recording rounds per side")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    url = make_url(args.database_url)
    server = sa_engine(url.set(database="mysql"))
    with server.begin() as connection:
        connection.execute(text(f"CREATE DATABASE IF NOT EXISTS `{url.database}`"))
    server.dispose()
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOGISTIC")},
        "LOGISTIC_HOME": str(home),
        "LOGISTIC_DATABASE_URL": args.database_url,
        "LOGISTIC_WEBHOOK_ALLOW_HTTP": "on",
        "LOGISTIC_WEBHOOK_ALLOW_PRIVATE": "on",
        "LOGISTIC_LOG_LEVEL": "WARNING",
    }
    container = _container(env)
    container.upgrade()
    container.location_catalog().sync(LOGISTICS_CENTERS)
    _empty_webhooks(args.database_url)
    receiver_url = f"http://127.0.0.1:{port}/hooks"
    arrivals: Arrivals = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receive, args=(port, arrivals), daemon=True)
    receiver.start()
    try:
        # 1. Recording with five subscriptions disabled, then enabled (interleaved).
        _record_all(container, _shipments(container, 50), 0)  # warm up the pools and caches
        five = _subscribe(container, receiver_url, 5)
        none_rate, five_rate, ratio = _recording_ratio(container, five, args.events, args.rounds)
        print(
            f"recording: {none_rate:.0f} events/s with no subscription, {five_rate:.0f} with five"
            f" ({ratio:.2f}x the time per event, median of {args.rounds} rounds)"
        )
        _empty_webhooks(args.database_url)
        container.subscribers().changed()

        # 2. Throughput: N messages due at once, one endpoint.
        (one,) = _subscribe(container, receiver_url, 1)
        now = container.clock().now()
        body = json.dumps({"type": "bench", "timestamp": now.isoformat(), "data": {}}).encode()
        for start in range(0, args.messages, 1000):
            batch = min(1000, args.messages - start)
            container.webhook_outbox().add(
                [NewMessage(one, start + n, "bench", body, now) for n in range(batch)]
            )
        started = time.perf_counter()
        dispatcher = _dispatcher(env, home)
        try:
            got = _drain(arrivals, args.messages, timeout_s=120)
            elapsed = time.perf_counter() - started
            flowing = got[-1][0] - got[0][0] if len(got) > 1 else 0.0
            print(
                f"dispatcher: {len(got)} of {args.messages} messages in {elapsed:.1f} s,"
                f" {len(got) / elapsed:.0f} messages/s with its start-up,"
                f" {(len(got) - 1) / flowing if flowing else 0:.0f} from the first arrival"
            )

            # 3. Latency at a steady rate of events.
            count = int(args.rate * args.seconds)
            walked = _shipments(container, count // len(WALK) + 1)
            container.subscribers().changed()
            latencies: list[float] = []
            spawning = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                RECORDING_PROCESSES, spawning, initializer=_start_recorder, initargs=(env,)
            ) as recorders:
                rates = [
                    _record_paced(recorders, walked, step, args.rate) for step in range(len(WALK))
                ]
            for arrived, stamp in _drain(arrivals, len(walked) * len(WALK), timeout_s=60):
                sent = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                latencies.append((arrived - sent) * 1000)
            latencies.sort()
            p50 = statistics.median(latencies)
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(
                f"commit to arrival at {args.rate:.0f} events/s asked,"
                f" {statistics.mean(rates):.0f} recorded: p50 {p50:.0f} ms,"
                f" p99 {p99:.0f} ms ({len(latencies)} messages)"
            )
        finally:
            dispatcher.terminate()
            dispatcher.wait(30)
    finally:
        receiver.terminate()
        container.shutdown_resources()


if __name__ == "__main__":
    main(sys.argv[1:])
