"""This checkout against another commit, side by side: misses, hits and /fake?num=100 on the
bench's data.

    .venv-bench/bin/python -m bench.versus REV [--rounds 4] [--duration 10]

Run `make bench` (or `python -m bench`) first: it makes the database this uses. REV
(a commit, tag or branch) is checked out in a temporary git worktree and installed
from it (not editable) in a venv of its own under --home, kept for the next run.
Both services then run at once, with the same settings as in the bench, on the
same database and Redis database (each with its own key prefix), and wrk drives
them in turn: every round runs each figure on both, the order going A B B A, so
that both see the same machine. A change's effect is the ratio of the two, paired
round by round; the CPU time each service's workers spent per request is reported
beside it, a steadier figure on a noisy machine. /fake?num=100 is timed one request at
a time (the median of --fake-requests a round, with the bench's API key), and its
ratio is of latencies: below 1 is faster; the place counts are recounted after, as
REV may predate migration 0010 and not keep them. `--only events` (or `--only miss,events`:
the figures whose names start with those words) runs POST /events in batches of 500
as bench.ingest does, on orders made once for the run and shared by both sides (they
take turns); its CPU is the workers' per event applied.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import redis
from sqlalchemy import inspect, make_url

from bench.dataset import mariadb
from bench.figures import spread
from bench.ingest import BATCHES, new_orders, send_batches
from bench.load import require_wrk, wrk
from bench.processes import BIN, ROOT, children, cpu_seconds, free_port, running
from bench.run import DEFAULT_DATABASE, DEFAULT_REDIS, HIT_SNO, PREFIX
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.status_counts import recount


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def installed(rev: str, home: Path) -> Path:
    """The `logistic` command of commit `rev`, installed in a venv of its own."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    venv = home / f"versus-{sha[:12]}"
    command = venv / "bin" / "logistic"
    if command.exists():
        return command
    tree = Path(tempfile.mkdtemp(prefix="logistic-versus-"))
    try:
        git("worktree", "add", "--detach", str(tree / "tree"), sha)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "pip"), "install", "--quiet"]
        subprocess.run([*pip, f"{tree / 'tree'}[bench]"], check=True)
    except BaseException:
        shutil.rmtree(venv, ignore_errors=True)
        raise
    finally:
        # Without check: a failure here must not hide the one that brought us here.
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False)
    return command


class Side:
    """One service under test, and what was measured on it, by figure."""

    def __init__(self, name: str, command: Path, prefix: str) -> None:
        self.name = name
        self.command = command
        self.prefix = prefix
        self.url = ""
        self.pid = 0
        self.rps: dict[str, list[float]] = {}
        self.p99: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}
        self.fake_ms: list[float] = []


def fake_latency(url: str, key: str, requests: int) -> float:
    """The median milliseconds of `requests` GET /fake?num=100, one at a time."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("GET", "/fake?num=100", headers={"Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        body = response.read()
        took.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise SystemExit(f"/fake?num=100 on {url}: {response.status} {body[:300]!r}")
    connection.close()
    return statistics.median(took)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev", help="the commit to compare this checkout with")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--rounds", type=int, default=4, help="4 evens out the order")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "logistic-bench"))
    parser.add_argument(
        "--fake-requests", type=int, default=10, help="/fake?num=100 a round and side; 0: none"
    )
    parser.add_argument(
        "--only",
        default="miss,hit",
        help="the wrk figures whose names start with these (comma-separated): miss, hit, "
        "events (the miss flushes the Redis database)",
    )
    args = parser.parse_args(argv)
    only = tuple(word.strip() for word in args.only.split(",") if word.strip())
    require_wrk()
    home = Path(args.home)
    home.mkdir(parents=True, exist_ok=True)
    connection = mariadb(args.database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM orders")
        (stored,) = cursor.fetchone()  # type: ignore[misc]
    connection.close()
    if not stored:
        raise SystemExit(f"no orders in {make_url(args.database_url).database}: run the bench")

    this = Side(f"this checkout ({git('rev-parse', '--short', 'HEAD')})", BIN / "logistic", PREFIX)
    other = Side(args.rev, installed(args.rev, home), "versus:")
    cache = redis.Redis.from_url(args.redis_url)
    # Each side runs its own venv's code: nothing may point either at this checkout.
    inherited = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith("LOGISTIC") and k not in inherited
        },
        "LOGISTIC_HOME": str(home),
        "LOGISTIC_DATABASE_URL": args.database_url,
        "LOGISTIC_REDIS_URL": args.redis_url,
        "LOGISTIC_RATE_LIMIT": "10000000/minute",
        "LOGISTIC_FAKE_API": "on",
        "LOGISTIC_LOG_LEVEL": "WARNING",
    }
    key_file = home / "bench-key"
    if args.fake_requests and not key_file.exists():
        raise SystemExit(f"no API key in {key_file}: run the bench, or --fake-requests 0")
    figures = {
        name: figure
        for name, figure in {
            f"miss c8 ({stored:,} orders)": ("miss.lua", [str(stored)], True),
            "hit c8": ("hit.lua", [str(HIT_SNO)], False),
        }.items()
        if name.startswith(only)
    }
    events = BATCHES.startswith(only)
    if events and not key_file.exists():
        raise SystemExit(f"no API key in {key_file}: run the bench")
    snos = new_orders(env) if events else range(0)
    with ExitStack() as stack:
        if args.fake_requests:
            # Last out, after both services stopped; also when the run fails half-way.
            stack.callback(recount_places, args.database_url)
        for side in (this, other):
            port = free_port()
            serve = [str(side.command), "serve", "--port", str(port)]
            log = home / f"versus-{side.prefix.rstrip(':')}.log"
            side_env = {**env, "LOGISTIC_REDIS_PREFIX": side.prefix}
            side.pid = stack.enter_context(running(serve, side_env, port, log, "/healthz")).pid
            side.url = f"http://127.0.0.1:{port}"
        for round_number in range(args.rounds):
            print(f"round {round_number + 1}/{args.rounds}", flush=True)
            order = (this, other) if round_number % 4 in (0, 3) else (other, this)
            for name, (script, script_args, flush) in figures.items():
                for side in order:
                    if flush:
                        cache.flushdb()
                    pids = children(side.pid)
                    before = cpu_seconds(pids)
                    run = wrk(side.url, script, script_args, 8, args.duration)
                    used = cpu_seconds(pids) - before
                    side.rps.setdefault(name, []).append(run.rps)
                    side.p99.setdefault(name, []).append(run.p99_ms)
                    per_request = 1000 * used / max(run.rps * args.duration, 1)
                    side.cpu.setdefault(name, []).append(per_request)
                    print(
                        f"  {name}, {side.name}: {run.rps:,.0f} req/s, p99 {run.p99_ms:.2f} ms, "
                        f"workers' CPU {per_request:.3f} ms per request",
                        flush=True,
                    )
            if events:
                for side in order:
                    in_batches(side, key_file.read_text().strip(), snos, args.duration)
            if args.fake_requests:
                key = key_file.read_text().strip()
                for side in order:
                    side.fake_ms.append(fake_latency(side.url, key, args.fake_requests))
                    print(f"  /fake?num=100, {side.name}: {side.fake_ms[-1]:.1f} ms", flush=True)
    print()
    print(table(this, other, [*figures, *([BATCHES] if events else [])], args))


def in_batches(side: Side, key: str, snos: range, seconds: int) -> None:
    """One run of batches of scans against `side`: events/s, and its workers' CPU per
    event applied."""
    pids = children(side.pid)
    before = cpu_seconds(pids)
    run = send_batches(side.url, key, snos, seconds)
    used = cpu_seconds(pids) - before
    side.rps.setdefault(BATCHES, []).append(run.rps)
    side.p99.setdefault(BATCHES, []).append(run.p99_ms)
    per_event = 1000 * used / max(run.rps * seconds, 1)
    side.cpu.setdefault(BATCHES, []).append(per_event)
    print(
        f"  {BATCHES}, {side.name}: {run.rps:,.0f} events/s, p99 {run.p99_ms:.0f} ms, "
        f"workers' CPU {per_event:.3f} ms per event",
        flush=True,
    )


def recount_places(database_url: str) -> None:
    """The counts made equal to the orders (`logistic recount`): a commit older than
    migration 0010 adds /fake's orders without counting them by place."""
    engine = create_engine(database_url)
    try:
        if inspect(engine).has_table("place_counts"):  # else migrated before 0010
            recount(engine)
    finally:
        engine.dispose()


def table(this: Side, other: Side, names: list[str], args: argparse.Namespace) -> str:
    lines = [
        f"{this.name} against {other.name}; wrk -t1 -c8 -d{args.duration}s, {args.rounds} "
        "rounds, order A B B A; median (range); ratios paired round by round.",
        "",
        f"| figure | {this.name} | {other.name} | ratio | workers' CPU per request (per event "
        "for batches), this / other |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        ratio = [a / b for a, b in zip(this.rps[name], other.rps[name], strict=True) if b]
        cpu = [a / b for a, b in zip(this.cpu[name], other.cpu[name], strict=True) if b]
        unit = "events/s" if name == BATCHES else "req/s"
        lines.append(
            f"| {name} | {spread(this.rps[name], 0)} {unit}, p99 "
            f"{statistics.median(this.p99[name]):.2f} ms | {spread(other.rps[name], 0)} {unit}, "
            f"p99 {statistics.median(other.p99[name]):.2f} ms | {spread(ratio, 2)} | "
            f"{spread(cpu, 2)} ({statistics.median(this.cpu[name]):.3f} vs "
            f"{statistics.median(other.cpu[name]):.3f} ms) |"
        )
    if this.fake_ms:
        ratio = [a / b for a, b in zip(this.fake_ms, other.fake_ms, strict=True) if b]
        lines.append(
            f"| /fake?num=100 latency | {spread(this.fake_ms, 1)} ms | {spread(other.fake_ms, 1)}"
            f" ms | {spread(ratio, 2)} (of latencies) | |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
