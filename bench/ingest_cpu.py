"""What one batch of 500 scans (POST /events) costs the CPU, in this process.

    .venv/bin/python -m bench.ingest_cpu 'mysql+mysqldb://root@127.0.0.1:PORT/DB?charset=utf8mb4' \
        [--batches 30] [--mariadb-pid PID] [--redis-url redis://127.0.0.1:PORT/DB]

The request goes through Flask's test client in this process, against a database
`logistic migrate` has made (run by another commit's venv from this checkout, it
measures that commit: only bench/ is taken from here), with ORDERS orders made In
Transit for the run, each batch sending 500 of them In Transit again, stamped now, as
bench/ingest.py's clients do. For each batch it
takes this process's CPU time (`process_time`) and, with --mariadb-pid, the
MariaDB server's (utime + stime from /proc, in clock ticks: use a server of your
own, whose CPU is the batch's alone). A machine shared with other work spreads
the wall-clock times; run two commits' checkouts in turn and compare CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.ingest import BATCH, new_orders
from logistic.container import Container
from logistic.domain.access import Scope
from logistic.entrypoints.http import create_app
from logistic.settings import Settings

ORDERS = 4000


def server_cpu(pid: int | None) -> float:
    """The seconds of CPU process `pid` has used (0 without a pid)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def body(snos: range, offset: int) -> bytes:
    now = datetime.now(UTC).isoformat()
    items = [
        {"sno": snos[(offset + k) % len(snos)], "status": "In Transit",
         "location_id": 1 + (offset + k) % 18, "occurred_at": now}
        for k in range(BATCH)
    ]  # fmt: skip
    return json.dumps({"events": items}).encode()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--mariadb-pid", type=int, default=None)
    parser.add_argument("--redis-url", default=None, help="default: the in-process cache")
    args = parser.parse_args(argv)
    env = {
        "LOGISTIC_DATABASE_URL": args.database_url,
        "LOGISTIC_HOME": tempfile.mkdtemp(prefix="logistic-ingest-cpu-"),
        "LOGISTIC_RATE_LIMIT": "10000000/minute",
        "LOGISTIC_LOG_LEVEL": "WARNING",
        "LOGISTIC_REDIS_PREFIX": "ingest-cpu:",
        **({"LOGISTIC_REDIS_URL": args.redis_url} if args.redis_url else {}),
    }
    container = Container(settings=Settings.from_environ(env))
    try:
        snos = new_orders(env)[:ORDERS]
        client = create_app(container).test_client()
        headers = {"Authorization": f"Bearer {container.access().create_key([Scope.EVENTS_WRITE])}"}
        python: list[float] = []
        server: list[float] = []
        for number in range(args.batches + 1):
            data = body(snos, number * BATCH)
            began, began_server = time.process_time(), server_cpu(args.mariadb_pid)
            response = client.post(
                "/events", data=data, headers=headers, content_type="application/json"
            )
            used, used_server = (
                time.process_time() - began,
                server_cpu(args.mariadb_pid) - began_server,
            )
            applied = (
                response.get_json()["data"]["summary"]["applied"]
                if response.status_code == 200
                else 0
            )
            if applied != BATCH:
                raise SystemExit(f"POST /events: {response.status_code} {response.data[:300]!r}")
            if number:  # the first warms up
                python.append(used * 1000)
                server.append(used_server * 1000)
    finally:
        container.shutdown_resources()
    print(
        f"{args.batches} batches of {BATCH}: this process's CPU per batch mean "
        f"{statistics.mean(python):.1f} ms, median {statistics.median(python):.1f}, "
        f"fastest {min(python):.1f}"
        + (f"; MariaDB's mean {statistics.mean(server):.1f} ms" if args.mariadb_pid else "")
    )


if __name__ == "__main__":
    main()
