"""The `logistic` command."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from attrs import evolve
from dependency_injector import providers

from logistic.adapters.clock import SystemClock, TravellingClock
from logistic.adapters.sql.migrate import upgrade
from logistic.container import Container, container_from_environment
from logistic.domain.access import Scope, parse_scopes
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import DomainError
from logistic.entrypoints.scheduler import ReportScheduler, stop_on_signals
from logistic.entrypoints.server import Server

DEMO_ORDERS = 100
SCHEDULER_STOP_SECONDS = 30


def _migrate(container: Container) -> None:
    upgrade(container.engine())
    container.location_catalog().sync(LOGISTICS_CENTERS)
    print(f"schema up to date; {len(LOGISTICS_CENTERS)} logistics centers in place", flush=True)


def _progress_printer(label: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        elapsed = max(time.monotonic() - started, 1e-9)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0.0
        line = f"{label}: {done}/{total} ({rate:,.0f}/s, ETA {eta:,.0f}s)"
        if sys.stderr.isatty():
            end = "\n" if done == total else ""
            print(f"\r{line}", end=end, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    return show


def _seed(container: Container, orders: int, seed: int | None) -> None:
    stored = container.seeding().seed(orders, seed=seed, progress=_progress_printer("seeding"))
    print(f"seeded {stored} orders", flush=True)


def cmd_migrate(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)


def cmd_seed(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)
    _seed(container, args.orders, args.seed)


def cmd_serve(container: Container, args: argparse.Namespace) -> None:
    settings = container.settings()
    settings = evolve(settings, host=args.host or settings.host, port=args.port or settings.port)
    Server(settings).run()


def cmd_run(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)
    if container.shipments().count() == 0:
        _seed(container, DEMO_ORDERS, seed=None)
    container.shutdown_resources()
    if args.no_scheduler:
        cmd_serve(container, args)
        return
    with _scheduler_beside():
        cmd_serve(container, args)


@contextmanager
def _scheduler_beside() -> Iterator[None]:
    # A child process, started before gunicorn forks its workers: the master
    # must hold no threads, and the scheduler must outlive no server.
    child = subprocess.Popen([sys.executable, "-m", "logistic.entrypoints.cli", "scheduler"])
    try:
        yield
    finally:
        child.terminate()
        try:
            child.wait(timeout=SCHEDULER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def cmd_report(container: Container, args: argparse.Namespace) -> None:
    reports = container.reports()
    slot = reports.slot(args.slot) if args.slot else reports.latest_slot()
    reports.check()
    outcome = reports.publish(slot)
    print(f"report {slot.name}: {outcome.value}", flush=True)


def cmd_scheduler(container: Container, args: argparse.Namespace) -> None:
    if args.clock_start is not None or args.clock_speed != 1:
        start = args.clock_start or SystemClock().now()
        container.clock.override(providers.Object(TravellingClock(start, args.clock_speed)))
    reports = container.reports()
    reports.check()
    scheduler = ReportScheduler(reports, container.clock(), container.settings().report_grace)
    stop_on_signals(scheduler)
    scheduler.run()


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 instant: {text!r}") from None
    if instant.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the instant an offset, e.g. {text}+08:00")
    return instant


def _speed(text: str) -> float:
    try:
        speed = float(text)
    except ValueError:
        speed = float("nan")
    if not 0 < speed < 1e6:
        raise argparse.ArgumentTypeError(f"a clock speed is a number above 0, not {text!r}")
    return speed


def cmd_keys(container: Container, args: argparse.Namespace) -> None:
    key = container.access().create_key(parse_scopes(args.scope))
    settings = container.settings()
    where = settings.api_keys_file or settings.home / "api-keys"
    print(key, flush=True)
    print(
        f"only its SHA-256 is stored, in {where}: keep the key now, it is not shown again",
        file=sys.stderr,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="logistic", description="Shipment tracking service.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="create or upgrade the schema, sync logistics centers")

    seed = commands.add_parser("seed", help="migrate, then add N demo orders")
    seed.add_argument("--orders", type=int, default=DEMO_ORDERS, help="how many (default 100)")
    seed.add_argument("--seed", type=int, default=None, help="random seed, for reproducible data")

    for name, text in (
        ("serve", "serve the HTTP API with gunicorn"),
        ("run", "migrate, seed demo orders if empty, and serve (the embedded default)"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--host", default=None, help="bind address (LOGISTIC_HOST)")
        command.add_argument("--port", type=int, default=None, help="port (LOGISTIC_PORT)")
    commands.choices["run"].add_argument(
        "--no-scheduler", action="store_true", help="serve without the report scheduler"
    )

    report = commands.add_parser("report", help="produce one report slot now, unless it exists")
    report.add_argument(
        "--slot", default=None, help="e.g. 2026-11-25T08:00 (default: the latest slot)"
    )

    scheduler = commands.add_parser(
        "scheduler", help="produce the 00:00, 08:00 and 16:00 reports, catching up missed ones"
    )
    scheduler.add_argument(
        "--clock-start",
        type=_instant,
        default=None,
        help="time travel (tests, demos): start the clock here, e.g. 2026-11-25T07:59:00+08:00",
    )
    scheduler.add_argument(
        "--clock-speed",
        type=_speed,
        default=1.0,
        help="time travel: run the clock this many times as fast as real time, e.g. 600",
    )
    keys = commands.add_parser("keys", help="API keys (stored as SHA-256 digests)")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_commands.add_parser("create", help="make a key, print it once, store its digest")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=[scope.value for scope in Scope],
        help="a scope the key grants; repeat the option for several",
    )
    return parser


COMMANDS: dict[str, Callable[[Container, argparse.Namespace], None]] = {
    "migrate": cmd_migrate,
    "seed": cmd_seed,
    "serve": cmd_serve,
    "run": cmd_run,
    "report": cmd_report,
    "scheduler": cmd_scheduler,
    "keys": cmd_keys,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        container = container_from_environment()
    except DomainError as error:
        print(f"logistic: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=container.settings().log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        COMMANDS[args.command](container, args)
    except DomainError as error:
        print(f"logistic {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"logistic {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        container.shutdown_resources()
    return 0


if __name__ == "__main__":
    sys.exit(main())
