"""What sizing InnoDB's buffer pool buys: /fake?num=100 and /query misses under two sizes.

    .venv-bench/bin/python -m bench.buffer_pool \
        mysql+mysqldb://root@127.0.0.1/logistic_bench [--sizes 128,1024] [--rounds 3]

The sizes are interleaved round by round. At each size:

* in this process, the service's own code (FakeOrders.create(100), and
  Tracking.uncached_body for random snos, no HTTP): median ms of each;
* under load, as the bench measures it (`--wrk-seconds`, 0 to skip): a
  `logistic serve` started once for the whole run, misses at c8 over every stored
  order with wrk after a flush of the cache: req/s, p99, and MariaDB's CPU per miss.

Before each larger size it reads every index of the tables whole, as a pool that
holds the working set would after a while in production: each one forced by
name, the clustered index (PRIMARY) included, which holds the rows a miss reads.
(A bare COUNT(*) reads the smallest index instead: on tracking_events that is
not the rows.) Needs the privilege to SET GLOBAL innodb_buffer_pool_size, and
puts the size it found back at the end. Not for a database in use: it changes a
server-wide setting and writes demo orders.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pymysql
import redis
from pymysql.cursors import Cursor

from bench.dataset import mariadb
from bench.load import require_wrk, wrk
from bench.processes import BIN, cpu_seconds, free_port, pids_named, running
from logistic.container import Container
from logistic.services.tracking import View
from logistic.settings import Settings

# The tables a /query miss and a /fake write touch.
TABLES = ("orders", "recipients", "tracking_events")


def warm_statements(cursor: Cursor) -> list[tuple[str, str, str]]:
    """(table, index, statement) for every index of TABLES, the statement reading
    that index whole."""
    cursor.execute(
        "SELECT DISTINCT table_name, index_name FROM information_schema.statistics"
        " WHERE table_schema = DATABASE() AND table_name IN %s ORDER BY 1, 2",
        (TABLES,),
    )
    return [
        (table, index, f"SELECT COUNT(*) FROM `{table}` FORCE INDEX (`{index}`)")
        for table, index in cursor.fetchall()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--sizes", default="128,1024", help="buffer pool sizes in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument(
        "--wrk-seconds", type=int, default=8, help="each run of misses under wrk (0: none)"
    )
    parser.add_argument("--home", default="/tmp/logistic-bench-pool")
    args = parser.parse_args()
    if args.wrk_seconds:
        require_wrk()
    admin = mariadb(args.url)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOGISTIC")},
        "LOGISTIC_HOME": args.home,
        "LOGISTIC_DATABASE_URL": args.url,
        "LOGISTIC_REDIS_URL": args.redis_url,
        "LOGISTIC_REDIS_PREFIX": "bench-pool:",
        "LOGISTIC_RATE_LIMIT": "10000000/minute",
        "LOGISTIC_LOG_LEVEL": "WARNING",
    }
    container = Container(settings=Settings.from_environ(env))
    fake, tracking = container.fake_orders(), container.tracking()
    highest = container.shipments().count()
    rng = random.Random(7)

    def miss() -> None:
        tracking.uncached_body(rng.randint(1, highest), View.MASKED, negative_checked=True)

    with admin.cursor() as cursor:
        cursor.execute("SELECT @@innodb_buffer_pool_size")
        (found,) = cursor.fetchone()  # type: ignore[misc]
        warm = warm_statements(cursor)
    sizes = [int(size) for size in args.sizes.split(",")]
    results: dict[str, dict[int, list[float]]] = {}

    def under_load(url: str, cache: redis.Redis) -> dict[str, float]:
        """Misses at c8 over every stored order, after a flush of the cache."""
        cache.flushdb()
        mariadbd = pids_named("mariadbd")
        before = cpu_seconds(mariadbd)
        run = wrk(url, "miss.lua", [str(highest)], 8, args.wrk_seconds)
        misses = max(run.rps * args.wrk_seconds, 1)
        return {
            "miss c8 req/s": run.rps,
            "miss c8 p99 ms": run.p99_ms,
            "MariaDB CPU ms per miss": 1000 * (cpu_seconds(mariadbd) - before) / misses,
        }

    try:
        with ExitStack() as stack:
            url = stack.enter_context(service(env, args)) if args.wrk_seconds else ""
            cache = redis.Redis.from_url(args.redis_url)
            for round_number in range(args.rounds):
                for size in sizes:
                    resize(admin, size, warm if size > sizes[0] else [])
                    figures = {
                        "/fake?num=100 ms": median_ms(lambda: fake.create(100), 3, 15),
                        "miss in-process ms": median_ms(miss, 50, 400),
                        **(under_load(url, cache) if url else {}),
                    }
                    for name, value in figures.items():
                        results.setdefault(name, {}).setdefault(size, []).append(value)
                    shown = ", ".join(f"{name} {value:,.2f}" for name, value in figures.items())
                    print(f"round {round_number + 1}, pool {size} MiB: {shown}", flush=True)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {int(found)}")
        print(f"buffer pool put back to {int(found) // 2**20} MiB")
        container.shutdown_resources()
    base = sizes[0]
    for name, by_size in results.items():
        for size, values in by_size.items():
            ratio = statistics.median(values) / statistics.median(by_size[base])
            print(
                f"{name}: pool {size} MiB median {statistics.median(values):.2f}"
                f" (range {min(values):.2f}-{max(values):.2f}), {ratio:.2f}x of {base} MiB"
            )


@contextmanager
def service(env: dict[str, str], args: argparse.Namespace) -> Iterator[str]:
    """`logistic serve` with its production settings on a free port: its URL."""
    Path(args.home).mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [str(BIN / "logistic"), "serve", "--port", str(port)]
    with running(command, env, port, Path(args.home) / "serve.log", "/healthz"):
        yield f"http://127.0.0.1:{port}"


def resize(admin: pymysql.Connection, size_mib: int, warm: list[tuple[str, str, str]]) -> None:  # type: ignore[type-arg]
    with admin.cursor() as cursor:
        cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {size_mib * 2**20}")
        # The resize runs in the background: wait until the server reports the new size.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cursor.execute("SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'")
            row = cursor.fetchone()
            cursor.execute("SELECT @@innodb_buffer_pool_size")
            (now,) = cursor.fetchone()  # type: ignore[misc]
            status = "" if row is None else str(row[1])
            if int(now) == size_mib * 2**20 and (not status or "Completed" in status):
                break
            time.sleep(0.5)
        for _, _, statement in warm:
            cursor.execute(statement)


def median_ms(action: Callable[[], object], warm: int, runs: int) -> float:
    for _ in range(warm):
        action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
