"""What the metrics cost a cached lookup: the same checkout served with LOGISTIC_METRICS on
and off, side by side, wrk's hits on each in turn.

    .venv/bin/python -m bench.metrics_cost [--rounds 4] [--duration 5]

It makes a small database of its own on the MariaDB server (dropped at the end), a
Redis server of its own on a free port, and two `logistic serve` with the bench's
settings but for LOGISTIC_METRICS. Every round runs wrk (one thread, 8 connections,
hit.lua) on both, the order going A B B A, and reads the CPU time the workers of
each spent: the figure is the requests per CPU second of "on" over "off", paired
round by round (at least 0.95, issue 23). "on" must then have counted every request
wrk got an answer to: its /metrics is read at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, make_url, text

from bench.figures import spread
from bench.load import require_wrk, wrk
from bench.processes import BIN, children, cpu_seconds, free_port, logistic_command, running

DEFAULT_SERVER = "mysql+pymysql://root@127.0.0.1:3306/"
ORDERS = 20
HIT_SNO = 1
CONNECTIONS = 8


class Side:
    def __init__(self, name: str) -> None:
        self.name = name
        self.url = ""
        self.pid = 0
        self.rps: list[float] = []
        self.cpu_ms: list[float] = []  # workers' CPU per request
        self.answered = 0


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    name = f"logistic_metrics_cost_{uuid.uuid4().hex[:8]}"
    engine = create_engine(server_url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield str(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()


def port_in(ports: range) -> int:
    """A free port of `ports` (this machine's engineers each keep to a range of their own)."""
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


@contextmanager
def own_redis(home: Path, ports: range) -> Iterator[str]:
    port = port_in(ports)
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(home)]
    log = (home / "redis.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    try:
        for _ in range(50):
            if subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
            ).stdout.startswith(b"PONG"):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def counted_hits(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as reply:
        exposition = reply.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "logistic_http_requests_total"
        and sample.labels == {"route": "/query", "status": "2xx"}
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server-url", default=DEFAULT_SERVER, help="a MariaDB server")
    parser.add_argument(
        "--redis-port", type=int, default=6390, help="its Redis server: the first free from here"
    )
    parser.add_argument("--rounds", type=int, default=4, help="4 evens out the order")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    args = parser.parse_args(argv)
    require_wrk()
    home = Path(tempfile.mkdtemp(prefix="logistic-metrics-cost-"))
    on, off = Side("metrics on"), Side("metrics off")
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, home, True)
        database = stack.enter_context(own_database(args.server_url))
        ports = range(args.redis_port, args.redis_port + 10)
        redis_url = stack.enter_context(own_redis(home, ports))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LOGISTIC")},
            "LOGISTIC_HOME": str(home),
            "LOGISTIC_DATABASE_URL": database,
            "LOGISTIC_REDIS_URL": redis_url,
            "LOGISTIC_RATE_LIMIT": "10000000/minute",
            "LOGISTIC_LOG_LEVEL": "WARNING",
        }
        logistic_command(home, env, "seed", "--orders", str(ORDERS), "--seed", "1")
        for side, switch in ((on, "on"), (off, "off")):
            port = free_port()
            side_env = {**env, "LOGISTIC_METRICS": switch, "LOGISTIC_REDIS_PREFIX": f"{switch}:"}
            serve = [str(BIN / "logistic"), "serve", "--port", str(port)]
            log = home / f"serve-{switch}.log"
            side.pid = stack.enter_context(running(serve, side_env, port, log, "/healthz")).pid
            side.url = f"http://127.0.0.1:{port}"
            urllib.request.urlopen(f"{side.url}/query?sno={HIT_SNO}", timeout=10).read()
        before_hits = counted_hits(on.url)
        for number in range(args.rounds):
            print(f"round {number + 1}/{args.rounds}", flush=True)
            order = (on, off) if number % 4 in (0, 3) else (off, on)
            for side in order:
                pids = children(side.pid)
                started = cpu_seconds(pids)
                run = wrk(side.url, "hit.lua", [str(HIT_SNO)], CONNECTIONS, args.duration)
                used = cpu_seconds(pids) - started
                requests = run.rps * args.duration
                side.rps.append(run.rps)
                side.cpu_ms.append(1000 * used / max(requests, 1))
                print(
                    f"  {side.name}: {run.rps:,.0f} req/s, p99 {run.p99_ms:.2f} ms, "
                    f"workers' CPU {side.cpu_ms[-1]:.3f} ms per request",
                    flush=True,
                )
        time.sleep(1.5)  # every worker has written its counts
        counted = counted_hits(on.url) - before_hits
    per_cpu = [o / n for o, n in zip(off.cpu_ms, on.cpu_ms, strict=True) if n]
    rps = [n / o for n, o in zip(on.rps, off.rps, strict=True) if o]
    print()
    print(
        f"hits, wrk -t1 -c{CONNECTIONS} -d{args.duration}s, {args.rounds} rounds, order A B B A;"
        " median (range); ratios paired round by round."
    )
    print()
    print("| figure | metrics on | metrics off | on / off |")
    print("|---|---|---|---|")
    print(f"| hits, req/s | {spread(on.rps, 0)} | {spread(off.rps, 0)} | {spread(rps, 3)} |")
    print(
        f"| workers' CPU per hit, ms | {spread(on.cpu_ms, 4)} | {spread(off.cpu_ms, 4)} | "
        f"{spread(per_cpu, 3)} (hits per CPU second) |"
    )
    print()
    print(
        f"hits per CPU second with metrics on: {statistics.median(per_cpu):.3f} of off "
        f"(issue 23: at least 0.95); /metrics counted {counted:,.0f} hits of "
        f"{sum(on.rps) * args.duration:,.0f} (wrk's rate times the duration, rounded by wrk)"
    )


if __name__ == "__main__":
    main()
