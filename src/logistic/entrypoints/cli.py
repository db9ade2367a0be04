"""The `logistic` command."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from attrs import evolve
from dependency_injector import providers

from logistic.adapters.clock import SystemClock, TravellingClock
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.status_counts import recount
from logistic.container import Container, container_from_environment
from logistic.domain.access import Scope, parse_scopes
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import DomainError
from logistic.entrypoints.scheduler import ReportScheduler, stop_on_signals
from logistic.entrypoints.seeders import default_workers, seed_orders
from logistic.entrypoints.server import Server
from logistic.services.seeding import BATCH_SIZE

DEMO_ORDERS = 100
SCHEDULER_STOP_SECONDS = 30


def _migrate(container: Container) -> None:
    upgrade(container.engine())
    container.location_catalog().sync(LOGISTICS_CENTERS)
    print(f"schema up to date; {len(LOGISTICS_CENTERS)} logistics centers in place", flush=True)


def cmd_migrate(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)


def cmd_recount(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)
    found = recount(container.engine())
    print(
        f"{sum(found.by_status.values()):,} orders counted by status and by place; "
        f"{found.corrected} stored counts corrected",
        flush=True,
    )


def cmd_seed(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)
    workers = args.workers or default_workers(container.settings().embedded)
    seed_orders(container, args.orders, args.seed, workers, args.batch_size)


def cmd_serve(container: Container, args: argparse.Namespace) -> None:
    settings = container.settings()
    settings = evolve(settings, host=args.host or settings.host, port=args.port or settings.port)
    Server(settings).run()


def cmd_run(container: Container, args: argparse.Namespace) -> None:
    _migrate(container)
    if container.shipments().count() == 0:
        seed_orders(container, DEMO_ORDERS)
    container.shutdown_resources()
    if args.no_scheduler:
        cmd_serve(container, args)
        return
    with _scheduler_beside():
        cmd_serve(container, args)


@contextmanager
def _scheduler_beside() -> Iterator[None]:
    # A child process, started before granian forks its workers: the master
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


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"a whole number is needed, not {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if _count(text) < 1:
        raise argparse.ArgumentTypeError(f"at least 1 is needed, not {text!r}")
    return int(text)


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
    commands.add_parser(
        "recount",
        help="migrate, then make the stored counts by status and by place equal to the orders"
        " (after rows were changed by hand; safe while the service runs)",
    )

    seed = commands.add_parser(
        "seed", help="migrate, then add demo orders until at least N are stored"
    )
    seed.add_argument(
        "--orders",
        type=_count,
        default=DEMO_ORDERS,
        help="how many orders must be stored (default 100); only the missing ones are added",
    )
    seed.add_argument("--seed", type=int, default=None, help="random seed, for reproducible data")
    seed.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="processes making and storing batches (default: 1 on SQLite, else one per core)",
    )
    seed.add_argument(
        "--batch-size",
        type=_positive,
        default=BATCH_SIZE,
        help=f"orders per transaction (default {BATCH_SIZE})",
    )

    for name, text in (
        ("serve", "serve the HTTP API with granian"),
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
    "recount": cmd_recount,
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
