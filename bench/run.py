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
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pymysql
import redis
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRK_SCRIPTS = ROOT / "bench" / "wrk"
RESULTS = ROOT / "bench" / "results"
# Through mysqlclient, the C driver production should use (README, Performance); the
# misses are measured through PyMySQL too, by a second service on the same data.
DEFAULT_DATABASE = "mysql+mysqldb://root@127.0.0.1:3306/logistic_bench?charset=utf8mb4"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
PREFIX = "bench:"
HIT_SNO = 1
# The machine: its ceiling app did 13,000 to 15,000 req/s under granian -w 2.
REFERENCE_CEILING = 14_000
START_SECONDS = 30


# -- processes -------------------------------------------------------------------------


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("the bench drives HTTP with wrk: apt-get install wrk")


def only_prefixes(only: str) -> tuple[str, ...]:
    """The name prefixes of --only: split at commas, except the ", " inside a figure's
    name ("ceiling, granian -w 2", "miss c8 (1M), PyMySQL")."""
    return tuple(word.strip() for word in re.split(r",(?!\s)", only) if word.strip())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, path: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args} exited:\n{log.read_text()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{process.args} did not answer on port {port}:\n{log.read_text()[-3000:]}")


@contextmanager
def running(
    command: Sequence[str], env: dict[str, str], port: int, log: Path, probe: str = "/"
) -> Iterator[subprocess.Popen[bytes]]:
    """A server in a process group of its own, ended (SIGTERM, then SIGKILL) on exit."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(command), env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
    try:
        wait_for(port, probe, process, log)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def mariadb(database_url: str, database: bool = True) -> pymysql.Connection:  # type: ignore[type-arg]
    """A plain PyMySQL connection to the server of `database_url` (and its database)."""
    url = make_url(database_url)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database if database else None,
        autocommit=True,
    )


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time the processes `pids` have used so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pids_named(name: str) -> list[int]:
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == name:
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- wrk -------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkRun:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, script: str, args: Sequence[str], connections: int, seconds: int) -> WrkRun:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(WRK_SCRIPTS / script), url, "--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+([0-9.]+\w+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+([0-9.]+\w+)", output).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    if socket_errors:
        print(f"    wrk: {socket_errors.group(0)}", flush=True)
    return WrkRun(rps, _ms(p50), _ms(p99), int(errors.group(1)) if errors else 0)


# -- figures ---------------------------------------------------------------------------


@dataclass
class Bound:
    """A target: at least `limit` (a rate) or at most `limit` (a time or a size).

    A target that `scales` is a speed of this machine: `holds` at `speed` (this
    machine's ceiling against the issue's, REFERENCE_CEILING) asks for `limit` times
    `speed` of a rate, or allows `limit` divided by `speed` of a time.
    """

    limit: float
    at_least: bool = False
    scales: bool = True

    def scaled(self, speed: float = 1.0) -> float:
        if not self.scales:
            return self.limit
        return self.limit * speed if self.at_least else self.limit / speed

    def holds(self, value: float, speed: float = 1.0) -> bool:
        limit = self.scaled(speed)
        return value >= limit if self.at_least else value <= limit


@dataclass
class Figure:
    """Repeated measurements of one figure, in the unit named."""

    name: str
    unit: str
    target: str = ""
    bound: Bound | None = None
    p99_bound: Bound | None = None  # its p99 too, in ms (the hits' and the misses')
    values: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    note: str = ""
    # CPU milliseconds per request, by process group, one entry per run.
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def median(self) -> float:
        return statistics.median(self.values)

    def verdict(self, speed: float = 1.0) -> str:
        if self.bound is None or not self.values:
            return ""
        ok = self.bound.holds(self.median(), speed)
        if self.p99_bound is not None and self.p99:
            ok = ok and self.p99_bound.holds(statistics.median(self.p99), speed)
        return "yes" if ok else "**no**"


def spread(values: Sequence[float], digits: int) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


# -- the bench -------------------------------------------------------------------------


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
        self.figures: dict[str, Figure] = {}
        # Orders added by this run's seedings, and the seconds they took.
        self.seeded: tuple[int, float] = (0, 0.0)
        self.service_pid = 0
        self.database = "database not reached"
        self.load_at_start = ""
        self.ratios: dict[str, Figure] = {}
        self.notes: list[str] = []
        self.only = only_prefixes(args.only or "")

    def wanted(self, name: str) -> bool:
        """Whether the figure `name` is measured (all of them without --only)."""
        return not self.only or name.startswith(self.only)

    def figure(self, name: str, unit: str, **extra: object) -> Figure:
        return self.figures.setdefault(name, Figure(name, unit, **extra))  # type: ignore[arg-type]

    def logistic(self, *command: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [str(BIN / "logistic"), *command],
            env=env or self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"logistic {' '.join(command)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def create_database(self) -> None:
        name = make_url(self.args.database_url).database
        connection = mariadb(self.args.database_url, database=False)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        connection.close()

    def api_key(self) -> str:
        path = self.home / "bench-key"
        if not path.exists():
            scopes = ["pii:read", "fake:write", "events:write"]
            key = self.logistic("keys", "create", *(f"--scope={scope}" for scope in scopes))
            path.write_text(key.strip())
        return path.read_text().strip()

    def seed(self, orders: int) -> int:
        started = time.perf_counter()
        output = self.logistic("seed", "--orders", str(orders))
        seconds = time.perf_counter() - started
        match = re.search(r"([\d,]+) orders added; ([\d,]+) stored", output)
        added, stored = (int(match.group(i).replace(",", "")) for i in (1, 2)) if match else (0, 0)
        if added:
            rate = self.figure("seeding rate", "orders/s", target="1M in ≤ 120 s")
            rate.bound = Bound(1_000_000 / 120, at_least=True)
            # One rate over every seeding of this run (100,000 then 900,000 make the
            # million the target names), not a median of the phases' rates.
            self.seeded = (self.seeded[0] + added, self.seeded[1] + seconds)
            rate.values = [self.seeded[0] / self.seeded[1]]
            rate.note += f"{added:,} orders in {seconds:.0f} s; "
        print(f"seed --orders {orders:,}: {added:,} added in {seconds:.1f} s", flush=True)
        return stored or orders

    def seed_sqlite(self, orders: int = 100_000) -> None:
        """`logistic seed --orders 100000` into a new SQLite file, once per round."""
        figure = self.figure("seeding 100k, SQLite", "s", target="≤ 30 s")
        figure.bound = Bound(30)
        figure.note = "the whole command: start-up and migrating the new file included"
        path = self.home / "seed-bench.db"
        # The embedded default: SQLite, and the in-process cache rather than the bench's Redis.
        env = {k: v for k, v in self.env.items() if k != "LOGISTIC_REDIS_URL"}
        env["LOGISTIC_DATABASE_URL"] = f"sqlite:///{path}"
        for round_ in range(1, self.args.rounds + 1):
            for leftover in self.home.glob(f"{path.name}*"):
                leftover.unlink()
            started = time.perf_counter()
            self.logistic("seed", "--orders", str(orders), env=env)
            figure.values.append(time.perf_counter() - started)
            print(f"seed SQLite {round_}/{self.args.rounds}: {figure.values[-1]:.1f} s", flush=True)
        for leftover in self.home.glob(f"{path.name}*"):
            leftover.unlink()

    def stored_orders(self) -> int:
        connection = mariadb(self.args.database_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(sno), 0), COUNT(*) FROM orders")
            highest, count = cursor.fetchone()  # type: ignore[misc]
            cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
            version, pool = cursor.fetchone()  # type: ignore[misc]
            self.database = f"{version}, InnoDB buffer pool {int(pool) // 2**20} MiB"
        connection.close()
        self.highest_sno = int(highest)
        return int(count)

    def report_times(self, size: str) -> None:
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "report_figures.py"), self.args.database_url,
             "--runs", str(self.args.rounds)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        whole = re.search(r"report: median ([0-9.]+) s \(range ([0-9.]+)-([0-9.]+)", done.stdout)
        counts = re.search(r"status counts: median ([0-9.]+) s", done.stdout)
        report = self.figure(f"report, all figures ({size})", "s", target="≤ 2 s")
        report.bound = Bound(2.0)
        if whole:
            report.values += [float(whole.group(i)) for i in (1, 2, 3)][:1]
            report.note = f"range {whole.group(2)}-{whole.group(3)} s"
        status = self.figure(f"report, status counts ({size})", "s", target="≤ 0.3 s")
        status.bound = Bound(0.3)
        if counts:
            status.values.append(float(counts.group(1)))

    def run_wrk(self, figure: Figure, url: str, script: str, args: Sequence[str], c: int) -> None:
        result = wrk(url, script, args, c, self.args.duration)
        figure.values.append(result.rps)
        figure.p50.append(result.p50_ms)
        figure.p99.append(result.p99_ms)
        errors = f", {result.errors} non-2xx" if result.errors else ""
        print(
            f"  {figure.name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, "
            f"p99 {result.p99_ms:.2f} ms{errors}",
            flush=True,
        )

    def warm_hit(self, port: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/query?sno={HIT_SNO}")
        assert connection.getresponse().read()
        connection.close()

    def latencies(self, port: int, key: str) -> None:
        """/fake?num=1, /fake?num=100 and POST events, one request at a time: median ms."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        auth = {"Authorization": f"Bearer {key}"}

        def timed(method: str, path: str, body: bytes | None = None) -> tuple[float, bytes]:
            headers = {**auth, "Content-Type": "application/json"} if body else auth
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status >= 300:
                raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
            return elapsed, data

        for num, count in ((1, 40), (100, 10)):
            figure = self.figure(f"/fake?num={num} latency", "ms median")
            if num == 100:
                figure.target = "≤ 40 ms"
                figure.bound = Bound(40)
            figure.values.append(
                statistics.median(timed("GET", f"/fake?num={num}")[0] for _ in range(count))
            )
        _, data = timed("GET", "/fake?num=100")
        in_transit = [
            order["sno"]
            for order in json.loads(data)["data"]
            if (order["tracking_status"] or {}).get("tracking_status") == "In Transit"
        ]
        if not in_transit:
            self.notes.append("no order in transit among 100 new ones: POST not measured")
            return
        post = self.figure("POST /shipments/<sno>/events latency", "ms median")
        body = json.dumps({"status": "In Transit", "location_id": 1}).encode()
        post.values.append(
            statistics.median(
                timed("POST", f"/shipments/{in_transit[i % len(in_transit)]}/events", body)[0]
                for i in range(40)
            )
        )
        connection.close()

    def measure(self, sizes: Sequence[int]) -> None:
        self.create_database()
        key = self.api_key()
        if self.wanted("seeding 100k, SQLite"):
            self.seed_sqlite()
        port = free_port()
        serve = [str(BIN / "logistic"), "serve", "--port", str(port)]
        for index, size in enumerate(sizes):
            label = f"{size // 1000:,}k" if size < 1_000_000 else f"{size // 1_000_000}M"
            self.seed(size)
            stored = self.stored_orders()
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
                    self.latencies(port, key)
                if last and self.wanted("RSS"):
                    workers = children(service.pid)
                    rss = self.figure("RSS per worker", "MiB (largest worker)", target="≤ 80 MiB")
                    # Memory is no faster on a faster machine.
                    rss.bound = Bound(80, scales=False)
                    sizes_mib = [rss_mib(pid) for pid in workers]
                    rss.values.append(max(sizes_mib))
                    rss.note = f"{len(workers)} workers: " + ", ".join(
                        f"{m:.0f}" for m in sizes_mib
                    )
        self.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")
        self.ratio(
            "cache hit c8 / ceiling (granian, kept connection)",
            "hit c8",
            "ceiling, granian -w 2, kept connection c8",
        )
        self.ratio(
            "cache hit c8 / ceiling (gunicorn sync)", "hit c8", "ceiling, gunicorn sync -w 2 c8"
        )
        self.ratio("cache hit c8 / cache miss c8", "hit c8", f"miss c8 ({label})")
        self.ratio(
            "miss c8: mysqlclient / PyMySQL", f"miss c8 ({label})", f"miss c8 ({label}), PyMySQL"
        )

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
            "BENCH_CEILING_KEY": f"{PREFIX}query:masked:{HIT_SNO}",
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
                 **extra: object) -> None:  # fmt: skip
            if not self.wanted(name):
                return
            figure = self.figure(name, "req/s", **extra)

            def run() -> None:
                if flush:
                    self.redis.flushdb()
                if warm:
                    self.warm_hit(port)
                groups = self.cpu_groups() if cpu else {}
                before = {group: cpu_seconds(pids) for group, pids in groups.items()}
                self.run_wrk(figure, target_url, script, args, c)
                requests = figure.values[-1] * self.args.duration
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
            case("hit c1", url, "hit.lua", hit, 1, warm=True)
            case(
                "hit c8",
                url,
                "hit.lua",
                hit,
                8,
                warm=True,
                cpu=True,
                target="≥ 0.7 of the ceiling, p99 ≤ 3 ms",
                p99_bound=Bound(3),
            )
            case("hit c8, API key (full view)", url, "hit.lua", [*hit, key], 8, warm=True)
            for name, ceiling_url in ceilings.items():
                case(f"ceiling, {name} c8", ceiling_url, "hit.lua", hit, 8, warm=True)
            case(
                "unknown sno c8", url, "unknown.lua", [str(self.highest_sno)], 8,
                target="≥ 3,000 req/s", bound=Bound(3000, at_least=True),
            )  # fmt: skip
        if not cases:  # --only named no wrk figure
            return
        for round_number in range(self.args.rounds):
            print(f"round {round_number + 1}/{self.args.rounds} ({label})", flush=True)
            # Interleaved, and each round starts elsewhere in the list.
            shift = round_number % len(cases)
            for _, run in cases[shift:] + cases[:shift]:
                run()

    def cpu_groups(self) -> dict[str, list[int]]:
        """The processes whose CPU time per request is reported, by group."""
        return {
            "service": children(self.service_pid),
            "MariaDB": pids_named("mariadbd"),
            "Redis": pids_named("redis-server"),
        }

    def ratio(self, name: str, top: str, bottom: str) -> None:
        upper, lower = self.figures.get(top), self.figures.get(bottom)
        if upper is None or lower is None:
            return
        figure = self.ratios.setdefault(name, Figure(name, ""))
        # Runs of one round were taken side by side: pair them round by round.
        figure.values = [a / b for a, b in zip(upper.values, lower.values, strict=False) if b]
        if name.endswith("(granian)"):
            figure.target = "≥ 0.7"
            # Already a fraction of this machine's own ceiling: it does not scale.
            figure.bound = Bound(0.7, at_least=True, scales=False)

    def table(self) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        cpu = _cpu_model()
        lines = [
            f"### Benchmark, {now}",
            "",
            f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; wrk -t1 -d{self.args.duration}s from 127.0.0.1; "
            f"{self.args.rounds} rounds, interleaved; median (range). {self.database}; load "
            f"average {self.load_at_start} at the start, {_load()} at the end.",
            "",
            "| ratio | median (range) | target | holds |",
            "|---|---|---|---|",
        ]
        for ratio in self.ratios.values():
            lines.append(
                f"| {ratio.name} | {spread(ratio.values, 2)} | {ratio.target} | {ratio.verdict()} |"
            )
        lines += [
            "",
            "| figure | value, median (range) | p50 ms | p99 ms | target | holds | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for figure in self.figures.values():
            value = f"{spread(figure.values, _digits(figure.unit))} {figure.unit}"
            p50 = spread(figure.p50, 2) if figure.p50 else ""
            p99 = spread(figure.p99, 2) if figure.p99 else ""
            verdict = self.verdict(figure)
            note = figure.note.rstrip("; ")
            if figure.cpu:
                note += "CPU ms per request: " + ", ".join(
                    f"{group} {statistics.median(values):.2f}"
                    for group, values in figure.cpu.items()
                )
            cells = [figure.name, value, p50, p99, figure.target, verdict, note]
            lines.append("| " + " | ".join(cells) + " |")
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines + self.scaled_table()) + "\n"

    def verdict(self, figure: Figure, speed: float = 1.0) -> str:
        """Whether `figure` holds its target, on a machine `speed` times the issue's."""
        hit_ratio = self.ratios.get("cache hit c8 / ceiling (granian)")
        if figure.name == "hit c8" and hit_ratio is not None and figure.p99_bound:
            ok = hit_ratio.verdict() == "yes" and figure.p99_bound.holds(
                statistics.median(figure.p99), speed
            )
            return "yes" if ok else "**no**"
        return figure.verdict(speed)

    def scaled_table(self) -> list[str]:
        """The targets again, scaled to this machine's speed as its ceiling tells it."""
        ceiling = self.figures.get("ceiling, granian -w 2 c8")
        if ceiling is None or not ceiling.values or ceiling.median() <= 0:
            return []  # no ceiling measured, or one that answered nothing: no speed to scale by
        speed = ceiling.median() / REFERENCE_CEILING
        lines = [
            "",
            f"**Scaled to this machine.** Its ceiling did {ceiling.median():,.0f} req/s, "
            f"{speed:.2f} of the issue's (about {REFERENCE_CEILING:,}, where the targets were "
            f"set): each rate target times {speed:.2f}, each time target divided by it "
            "(memory and the ratio to the ceiling unchanged). The verdicts above are the "
            "issue's own.",
            "",
            "| figure | value, median | p99 ms | scaled target | holds, scaled |",
            "|---|---|---|---|---|",
        ]
        for figure in self.figures.values():
            if (figure.bound is None and figure.p99_bound is None) or not figure.values:
                continue
            digits = _digits(figure.unit)
            targets = ["≥ 0.7 of the ceiling"] if figure.name == "hit c8" else []
            if figure.bound is not None:
                sign = "≥" if figure.bound.at_least else "≤"
                targets.append(f"{sign} {figure.bound.scaled(speed):,.{digits}f} {figure.unit}")
            if figure.p99_bound is not None:
                targets.append(f"p99 ≤ {figure.p99_bound.scaled(speed):.2f} ms")
            p99 = f"{statistics.median(figure.p99):.2f}" if figure.p99 else ""
            value = f"{figure.median():,.{digits}f} {figure.unit}"
            cells = [figure.name, value, p99, ", ".join(targets), self.verdict(figure, speed)]
            lines.append("| " + " | ".join(cells) + " |")
        return lines


def _digits(unit: str) -> int:
    return 3 if unit == "s" else (1 if unit.startswith(("ms", "MiB")) else 0)


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
    table = bench.table()
    print()
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    path.write_text(table)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
