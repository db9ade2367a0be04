"""The benchmark: the service as in production on MariaDB and Redis, driven by wrk.

    make bench            # or: .venv/bin/python -m bench [--rounds 3] [--duration 10]

It creates the database if missing (default logistic_bench on 127.0.0.1), seeds
100,000 and then 1,000,000 orders if they are not there, and runs `logistic serve`
with its production settings: mysqlclient, rate limit on (10000000/minute, so its
cost is counted and it never trips), masking on, an API key configured. At the last
size a second service reads the same data through PyMySQL, and its misses are
measured beside the others. wrk runs from a second process on 127.0.0.1 with the lua
scripts of bench/wrk. The bench uses Redis database 9 alone and FLUSHDBs it before
every miss run: give it a database index nothing else uses (--redis-url). Every
measurement is repeated --rounds times, the runs of one round interleaved, and
reported as median and range. The table is printed and written to
bench/results/<date>.md. `--only hit,ceiling` runs just the figures whose names
start with those words (a hit-vs-ceiling comparison on a small database takes a
minute).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import redis
from sqlalchemy import make_url

from bench.dataset import Dataset
from bench.figures import Bound, FigureTable
from bench.ingest import ingest_cases
from bench.load import WrkRun, latencies, record, require_wrk, wrk
from bench.lookups import BATCH, etag_of, lookup_ratios, warm_batch
from bench.processes import (
    BIN,
    ROOT,
    children,
    cpu_groups,
    cpu_seconds,
    free_port,
    rss_mib,
    running,
)
from logistic.services.tracking import tracking_key

RESULTS = ROOT / "bench" / "results"
# Through mysqlclient, the C driver production should use (README, Performance); the
# misses are measured through PyMySQL too, by a second service on the same data.
DEFAULT_DATABASE = "mysql+mysqldb://root@127.0.0.1:3306/logistic_bench?charset=utf8mb4"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
PREFIX = "bench:"
HIT_SNO = 1
# A cached tracking page may cost the workers this many times a cached /query body.
PAGE_CPU_LIMIT = 1.5


def only_prefixes(only: str) -> tuple[str, ...]:
    """The name prefixes of --only: split at commas, except the ", " inside a figure's
    name ("ceiling, granian -w 2", "miss c8 (1M), PyMySQL")."""
    return tuple(word.strip() for word in re.split(r",(?!\s)", only) if word.strip())


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.home = Path(args.home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.redis = redis.Redis.from_url(args.redis_url)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LOGISTIC")},
            "LOGISTIC_HOME": str(self.home),
            "LOGISTIC_DATABASE_URL": args.database_url,
            "LOGISTIC_REDIS_URL": args.redis_url,
            "LOGISTIC_REDIS_PREFIX": PREFIX,
            "LOGISTIC_RATE_LIMIT": "10000000/minute",
            "LOGISTIC_FAKE_API": "on",
            "LOGISTIC_LOG_LEVEL": "WARNING",
        }
        if args.workers:
            self.env["LOGISTIC_WORKERS"] = str(args.workers)
        if args.threads:
            self.env["LOGISTIC_THREADS"] = str(args.threads)
        self.table = FigureTable()
        self.dataset = Dataset(args.database_url, self.home, self.env, self.table)
        self.service_pid = 0
        self.load_at_start = ""
        self.only = only_prefixes(args.only or "")

    def wanted(self, name: str) -> bool:
        """Whether the figure `name` is measured (all of them without --only)."""
        return not self.only or name.startswith(self.only)

    def report_times(self, size: str) -> None:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "report_figures.py"), self.args.database_url,
             "--runs", str(self.args.rounds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        whole = re.search(r"report: median ([0-9.]+) s \(range ([0-9.]+)-([0-9.]+)", done.stdout)
        counts = re.search(r"status counts: median ([0-9.]+) s", done.stdout)
        report = self.table.figure(f"report, all figures ({size})", "s", target="≤ 2 s")
        report.bound = Bound(2.0)
        if whole:
            report.values += [float(whole.group(i)) for i in (1, 2, 3)][:1]
            report.note = f"range {whole.group(2)}-{whole.group(3)} s"
        status = self.table.figure(f"report, status counts ({size})", "s", target="≤ 0.3 s")
        status.bound = Bound(0.3)
        if counts:
            status.values.append(float(counts.group(1)))

    def warm_hit(self, port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in (f"/query?sno={HIT_SNO}", f"/track/{HIT_SNO}"):
            connection.request("GET", path)
            assert connection.getresponse().read()
        connection.close()

    def measure(self, sizes: Sequence[int]) -> None:
        self.dataset.create()
        key = self.dataset.api_key()
        if self.wanted("seeding 100k, SQLite"):
            self.dataset.seed_sqlite(self.args.rounds)
        port = free_port()
        serve = [str(BIN / "logistic"), "serve", "--port", str(port)]
        for index, size in enumerate(sizes):
            label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
            self.dataset.seed(size)
            stored = self.dataset.stored_orders()
            print(f"{stored:,} orders stored (phase {label})", flush=True)
            if self.wanted("report"):
                self.report_times(label)
            last = index == len(sizes) - 1
            with ExitStack() as stack:
                log = self.home / "serve.log"
                service = stack.enter_context(running(serve, self.env, port, log, "/healthz"))
                self.service_pid = service.pid
                url = f"http://127.0.0.1:{port}"
                ceilings = self.ceilings(stack) if last else {}
                pymysql_url = self.pymysql_service(stack) if last else None
                self.rounds(label, url, port, key, size, last, ceilings, pymysql_url)
                if last and self.wanted("/fake"):
                    latencies(self.table, port, key)
                if last and self.wanted("RSS"):
                    workers = children(service.pid)
                    rss = self.table.figure(
                        "RSS per worker", "MiB (largest worker)", target="≤ 80 MiB"
                    )
                    # Memory is no faster on a faster machine.
                    rss.bound = Bound(80, scales=False)
                    sizes_mib = [rss_mib(pid) for pid in workers]
                    rss.values.append(max(sizes_mib))
                    rss.note = f"{len(workers)} workers: " + ", ".join(
                        f"{m:.0f}" for m in sizes_mib
                    )
        self.table.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")
        self.table.ratio(
            "cache hit c8 / ceiling (granian, kept connection)",
            "hit c8",
            "ceiling, granian -w 2, kept connection c8",
        )
        self.table.ratio(
            "cache hit c8 / ceiling (gunicorn sync)", "hit c8", "ceiling, gunicorn sync -w 2 c8"
        )
        self.table.ratio("cache hit c8 / cache miss c8", "hit c8", f"miss c8 ({label})")
        self.table.ratio("page hit c8 / hit c8 (req/s)", "page hit c8", "hit c8")
        self.table.cpu_ratio(
            "page hit c8 / hit c8 (workers' CPU per request)",
            "page hit c8",
            "hit c8",
            PAGE_CPU_LIMIT,
        )
        self.table.ratio(
            "miss c8: mysqlclient / PyMySQL", f"miss c8 ({label})", f"miss c8 ({label}), PyMySQL"
        )
        lookup_ratios(self.table, label)

    def pymysql_service(self, stack: ExitStack) -> str | None:
        """The same service on the same data through PyMySQL, when the bench's own URL
        names mysqlclient: its misses are measured beside the others."""
        url = make_url(self.args.database_url)
        if url.get_driver_name() != "mysqldb" or not self.wanted("miss c8"):
            return None
        port = free_port()
        env = {
            **self.env,
            "LOGISTIC_DATABASE_URL": url.set(drivername="mysql+pymysql").render_as_string(
                hide_password=False
            ),
        }
        serve = [str(BIN / "logistic"), "serve", "--port", str(port)]
        stack.enter_context(running(serve, env, port, self.home / "serve-pymysql.log", "/healthz"))
        return f"http://127.0.0.1:{port}"

    def ceilings(self, stack: ExitStack) -> dict[str, str]:
        env = {
            **self.env,
            "BENCH_REDIS_URL": self.args.redis_url,
            "BENCH_CEILING_KEY": PREFIX + tracking_key(HIT_SNO),
        }
        found = {}
        for name, command in (
            ("granian -w 2", [str(BIN / "granian"), "--interface", "wsgi", "--workers", "2",
                              "--no-access-log", "--log-level", "warning", "--port", "{port}",
                              "bench.ceiling:app"]),
            ("granian -w 2, kept connection", [str(BIN / "granian"), "--interface", "wsgi",
                              "--workers", "2", "--no-access-log", "--log-level", "warning",
                              "--port", "{port}", "bench.ceiling:direct_app"]),
            ("gunicorn sync -w 2", [str(BIN / "gunicorn"), "-w", "2", "-b", "127.0.0.1:{port}",
                                    "bench.ceiling:app"]),
        ):  # fmt: skip
            if not self.wanted(f"ceiling, {name}"):
                continue
            port = free_port()
            argv = [part.replace("{port}", str(port)) for part in command]
            log = self.home / f"ceiling-{name.replace(' ', '-').replace(',', '')}.log"
            stack.enter_context(running(argv, env, port, log))
            found[name] = f"http://127.0.0.1:{port}"
        return found

    def rounds(
        self,
        label: str,
        url: str,
        port: int,
        key: str,
        size: int,
        last: bool,
        ceilings: dict[str, str],
        pymysql_url: str | None = None,
    ) -> None:
        hit = [str(HIT_SNO)]
        cases: list[tuple[str, Callable[[], None]]] = []

        def case(name: str, target_url: str, script: str, args: list[str], c: int, *,
                 flush: bool = False, warm: bool = False, cpu: bool = False,
                 per_request: int = 1, first: Callable[[], None] | None = None,
                 **extra: object) -> None:  # fmt: skip
            # `per_request` snos a request (a batch): the figure is in snos/s. `first` runs
            # before each run (after the flush).
            if not self.wanted(name):
                return
            unit = "req/s" if per_request == 1 else "snos/s"
            figure = self.table.figure(name, unit, **extra)

            def run() -> None:
                if flush:
                    self.redis.flushdb()
                if warm:
                    self.warm_hit(port)
                if first is not None:
                    first()
                groups = cpu_groups(self.service_pid) if cpu else {}
                before = {group: cpu_seconds(pids) for group, pids in groups.items()}
                done = wrk(target_url, script, args, c, self.args.duration)
                record(
                    figure, WrkRun(done.rps * per_request, done.p50_ms, done.p99_ms, done.errors)
                )
                requests = done.rps * self.args.duration
                for group, pids in groups.items():
                    used = cpu_seconds(pids) - before[group]
                    figure.cpu.setdefault(group, []).append(1000 * used / max(requests, 1))

            cases.append((name, run))

        miss_args = [str(size)]
        case(f"miss c1 ({label})", url, "miss.lua", miss_args, 1, flush=True)
        case(
            f"miss c8 ({label})", url, "miss.lua", miss_args, 8, flush=True, cpu=last,
            target="≥ 2,000 req/s, p99 ≤ 8 ms (1M)",
            bound=Bound(2000, at_least=True) if size >= 1_000_000 else None,
            p99_bound=Bound(8) if size >= 1_000_000 else None,
        )  # fmt: skip
        if pymysql_url is not None:
            case(f"miss c8 ({label}), PyMySQL", pymysql_url, "miss.lua", miss_args, 8, flush=True)
        if last:
            batch_misses = ["miss", str(size), str(BATCH)]
            case(
                f"batch of 50 misses c8 ({label})", url, "batch.lua", batch_misses, 8,
                flush=True, per_request=BATCH, target="≥ 3 × miss c8, in snos/s",
            )  # fmt: skip
        if last:
            case("hit c1", url, "hit.lua", hit, 1, warm=True)
            case(
                "hit c8", url, "hit.lua", hit, 8, warm=True, cpu=True,
                target="≥ 0.7 of the ceiling, p99 ≤ 3 ms", p99_bound=Bound(3),
            )  # fmt: skip
            case("hit c8, API key (full view)", url, "hit.lua", [*hit, key], 8, warm=True)
            case(
                "page hit c8", url, "page.lua", hit, 8, warm=True, cpu=True,
                target=f"workers' CPU per request ≤ {PAGE_CPU_LIMIT}× hit c8's",
            )  # fmt: skip
            # A poller holding the body: 304s, beside the hits.
            tag = etag_of(port, HIT_SNO) if self.wanted("304 c8") else ""
            case(
                "304 c8", url, "not_modified.lua", [*hit, tag], 8, warm=True, cpu=True,
                target="≥ hit c8",
            )  # fmt: skip
            case(
                "batch of 50 hits c8", url, "batch.lua", ["hit", str(size), str(BATCH)], 8,
                per_request=BATCH, first=lambda: warm_batch(port), target="≥ 5 × hit c8, in snos/s",
            )  # fmt: skip
            for name, ceiling_url in ceilings.items():
                case(f"ceiling, {name} c8", ceiling_url, "hit.lua", hit, 8, warm=True)
            case(
                "unknown sno c8", url, "unknown.lua", [str(self.dataset.highest_sno)], 8,
                target="≥ 3,000 req/s", bound=Bound(3000, at_least=True),
            )  # fmt: skip
        cases += ingest_cases(self, url, key) if last else []  # batches against single events
        if not cases:  # --only named no wrk figure
            return
        for round_number in range(self.args.rounds):
            print(f"round {round_number + 1}/{self.args.rounds} ({label})", flush=True)
            # Interleaved, and each round starts elsewhere in the list.
            shift = round_number % len(cases)
            for _, run in cases[shift:] + cases[:shift]:
                run()

    def markdown(self) -> str:
        """The table of this run, under the machine and the conditions it ran in."""
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        cpu = _cpu_model()
        heading = [
            f"### Benchmark, {now}",
            "",
            f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; wrk -t1 -d{self.args.duration}s from 127.0.0.1; "
            f"{self.args.rounds} rounds, interleaved; median (range). "
            f"{self.dataset.description}; load average {self.load_at_start} at the start, "
            f"{_load()} at the end.",
        ]
        return self.table.markdown(heading)


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark the service (see bench/run.py).")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS, help="a database index only the bench uses"
    )
    parser.add_argument("--orders", default="100000,1000000", help="sizes to seed, in order")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--workers", type=int, default=None, help="LOGISTIC_WORKERS (default: production)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="LOGISTIC_THREADS (default: production)"
    )
    parser.add_argument(
        "--only",
        default=None,
        help="name prefixes of the figures to run, separated by commas without a space "
        "(a comma and a space belong to a name): e.g. 'hit c8,ceiling, granian' "
        "(default: all)",
    )
    parser.add_argument("--home", default=str(Path(tempfile.gettempdir()) / "logistic-bench"))
    args = parser.parse_args(argv)
    require_wrk()
    bench = Bench(args)
    bench.load_at_start = _load()
    bench.measure([int(size) for size in args.orders.split(",")])
    table = bench.markdown()
    print()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    path.write_text(table)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
