"""What sizing InnoDB's buffer pool buys: /fake?num=100 and /query misses under two sizes.

    .venv-bench/bin/python -m bench.buffer_pool \
        mysql+pymysql://root@127.0.0.1/logistic_bench [--sizes 128,1024] [--rounds 3]

Runs the service's own code in this process (FakeOrders.create(100), and
Tracking.uncached_body for random snos, no HTTP) against a seeded database, the
sizes interleaved round by round. Before each larger size it reads every index
of the tables once, as a pool that holds the working set would after a while in
production. Needs the privilege to SET GLOBAL innodb_buffer_pool_size, and puts
the size it found back at the end. Not for a database in use: it changes a
server-wide setting and writes demo orders.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable

import pymysql

from bench.run import mariadb
from logistic.container import Container
from logistic.services.tracking import View
from logistic.settings import Settings

WARM = (
    "SELECT COUNT(*) FROM orders FORCE INDEX ({index})",
    "SELECT COUNT(*) FROM recipients",
    "SELECT COUNT(*) FROM tracking_events",
)
ORDER_INDEXES = (
    "PRIMARY",
    "ix_orders_current_status_last_event_at_created_at",
    "ix_orders_current_location_id_created_at",
    "ix_orders_delivered_at_created_at_promised_by",
    "ix_orders_created_at",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--sizes", default="128,1024", help="buffer pool sizes in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    admin = mariadb(args.url)
    settings = Settings.from_environ(
        {
            **os.environ,
            "LOGISTIC_DATABASE_URL": args.url,
            "LOGISTIC_REDIS_URL": args.redis_url,
            "LOGISTIC_REDIS_PREFIX": "bench-pool:",
        }
    )
    container = Container(settings=settings)
    fake, tracking = container.fake_orders(), container.tracking()
    highest = container.shipments().count()
    rng = random.Random(7)

    def miss() -> None:
        tracking.uncached_body(rng.randint(1, highest), View.MASKED, negative_checked=True)

    with admin.cursor() as cursor:
        cursor.execute("SELECT @@innodb_buffer_pool_size")
        (found,) = cursor.fetchone()  # type: ignore[misc]
    sizes = [int(size) for size in args.sizes.split(",")]
    results: dict[str, dict[int, list[float]]] = {"fake100": {}, "miss": {}}
    try:
        for round_number in range(args.rounds):
            for size in sizes:
                resize(admin, size, warm=size > sizes[0])
                fake_ms = median_ms(lambda: fake.create(100), warm=3, runs=15)
                miss_ms = median_ms(miss, warm=50, runs=400)
                results["fake100"].setdefault(size, []).append(fake_ms)
                results["miss"].setdefault(size, []).append(miss_ms)
                print(
                    f"round {round_number + 1}, pool {size} MiB: /fake?num=100 {fake_ms:.1f} ms,"
                    f" miss {miss_ms:.2f} ms",
                    flush=True,
                )
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"SET GLOBAL innodb_buffer_pool_size = {int(found)}")
        print(f"buffer pool put back to {int(found) // 2**20} MiB")
    base = sizes[0]
    for name, by_size in results.items():
        for size, values in by_size.items():
            ratio = statistics.median(values) / statistics.median(by_size[base])
            print(
                f"{name}: pool {size} MiB median {statistics.median(values):.2f} ms"
                f" (range {min(values):.2f}-{max(values):.2f}), {ratio:.2f}x of {base} MiB"
            )


def resize(admin: pymysql.Connection, size_mib: int, warm: bool) -> None:  # type: ignore[type-arg]
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
        if warm:
            for index in ORDER_INDEXES:
                cursor.execute(WARM[0].format(index=index))
            for statement in WARM[1:]:
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
