"""The `logistic` command: each subcommand gets a container built from the environment.

A malformed setting exits with 2 before any work, as a malformed option does; a
failure of the service's own (a `DomainError`) is one line on stderr and exit 1.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TextIO

import click
from attrs import evolve
from dependency_injector import providers

from logistic.container import Container, without_database_timeout
from logistic.domain.access import Scope, parse_scopes
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ObjectStoreUnreachable
from logistic.entrypoints.backfill import ingest_lines
from logistic.entrypoints.backtest_report import backtest_estimate
from logistic.entrypoints.command import INTERRUPTED, Options, with_container
from logistic.entrypoints.dispatcher import deliver_until_stopped
from logistic.entrypoints.metrics_port import published_metrics
from logistic.entrypoints.option_types import ClockSpeed, Instant, WholeNumber
from logistic.entrypoints.scheduler import ReportScheduler, stop_on_signals
from logistic.entrypoints.seeders import default_workers, seed_orders
from logistic.entrypoints.server import Server
from logistic.services.seeding import BATCH_SIZE, SEED_WINDOW

DEMO_ORDERS = 100
SCHEDULER_STOP_SECONDS = 30
# The long-running commands' (scheduler, dispatcher) own metrics endpoint.
METRICS_PORT = click.option(
    "--metrics-port",
    type=WholeNumber(least=1),
    default=None,
    help="serve this process's own metrics on http://LOGISTIC_HOST:PORT/metrics"
    " (default: into the metrics directory the API's /metrics shows)",
)


@click.group(
    name="logistic",
    help="Shipment tracking service.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
def logistic() -> None:
    pass


def _migrate(container: Container) -> None:
    container.upgrade()
    container.location_catalog().sync(LOGISTICS_CENTERS)
    print(f"schema up to date; {len(LOGISTICS_CENTERS)} logistics centers in place", flush=True)


@logistic.command(help="create or upgrade the schema, sync logistics centers")
@with_container
def migrate(container: Container) -> None:
    without_database_timeout(container)
    _migrate(container)


@logistic.command(
    help="migrate, then make the stored counts by status and by place equal to the orders"
    " (after rows were changed by hand; safe while the service runs)",
    short_help="migrate, then make the stored counts equal to the orders",
)
@with_container
def recount(container: Container) -> None:
    without_database_timeout(container)
    _migrate(container)
    found = container.recount()
    print(
        f"{sum(found.by_status.values()):,} orders counted by status and by place; "
        f"{found.corrected} stored counts corrected",
        flush=True,
    )


@logistic.command(help="migrate, then add demo orders until at least N are stored")
@click.option(
    "--orders",
    type=WholeNumber(least=0),
    default=DEMO_ORDERS,
    help=f"how many orders must be stored (default {DEMO_ORDERS}); only the missing ones are added",
)
@click.option("--seed", type=int, default=None, help="random seed, for reproducible data")
@click.option(
    "--workers",
    type=WholeNumber(least=1),
    default=None,
    help="processes making and storing batches (default: 1 on SQLite, else one per core)",
)
@click.option(
    "--batch-size",
    type=WholeNumber(least=1),
    default=BATCH_SIZE,
    help=f"orders per transaction (default {BATCH_SIZE})",
)
@click.option(
    "--days",
    type=WholeNumber(least=1),
    default=SEED_WINDOW.days,
    help=f"create the orders over this many days up to now (default {SEED_WINDOW.days})",
)
@with_container
def seed(
    container: Container,
    orders: int,
    seed: int | None,
    workers: int | None,
    batch_size: int,
    days: int,
) -> None:
    without_database_timeout(container)
    _migrate(container)
    workers = workers or default_workers(container.settings().embedded)
    seed_orders(container, orders, seed, workers, batch_size, window=timedelta(days=days))


def _address_options(command: Callable[Options, None]) -> Callable[Options, None]:
    command = click.option("--port", type=int, default=None, help="port (LOGISTIC_PORT)")(command)
    return click.option("--host", default=None, help="bind address (LOGISTIC_HOST)")(command)


def _serve(container: Container, host: str | None, port: int | None) -> None:
    settings = container.settings()
    settings = evolve(settings, host=host or settings.host, port=port or settings.port)
    Server(settings).run()


@logistic.command(help="serve the HTTP API with granian")
@_address_options
@with_container
def serve(container: Container, host: str | None, port: int | None) -> None:
    _serve(container, host, port)


@logistic.command(
    help="migrate, seed demo orders if empty, and serve (the embedded default)",
    short_help="migrate, seed demo orders if empty, and serve",
)
@_address_options
@click.option("--no-scheduler", is_flag=True, help="serve without the report scheduler")
@click.option("--no-dispatcher", is_flag=True, help="serve without the webhook dispatcher")
@with_container
def run(
    container: Container,
    host: str | None,
    port: int | None,
    no_scheduler: bool,
    no_dispatcher: bool,
) -> None:
    _migrate(container)
    if container.shipments().count() == 0:
        seed_orders(container, DEMO_ORDERS)
    container.shutdown_resources()
    chosen = (("scheduler", no_scheduler), ("dispatcher", no_dispatcher))
    with _beside([name for name, off in chosen if not off], port or container.settings().port):
        _serve(container, host, port)


@contextmanager
def _beside(commands: Sequence[str], port: int) -> Iterator[None]:
    # Child processes, started before granian forks its workers: the master must hold
    # no threads, and they must outlive no server. They write their metrics into the
    # directory of the server's port, whose /metrics shows them.
    children = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "logistic.entrypoints.cli", command],
            env={**os.environ, "LOGISTIC_PORT": str(port)},
        )
        for command in commands
    ]
    try:
        yield
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=SCHEDULER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@logistic.command(help="produce one report slot now, unless it exists")
@click.option("--slot", default=None, help="e.g. 2026-11-25T08:00 (default: the latest slot)")
@with_container
def report(container: Container, slot: str | None) -> None:
    reports = container.reports()
    chosen = reports.slot(slot) if slot else reports.latest_slot()
    reports.check()
    outcome = reports.publish(chosen)
    print(f"report {chosen.name}: {outcome.value}", flush=True)


@logistic.command(
    help="produce the 00:00, 08:00 and 16:00 reports, catching up missed ones",
    short_help="produce the 00:00, 08:00 and 16:00 reports",
)
@click.option(
    "--clock-start",
    type=Instant(),
    default=None,
    help="time travel (tests, demos): start the clock here, e.g. 2026-11-25T07:59:00+08:00",
)
@click.option(
    "--clock-speed",
    type=ClockSpeed(),
    default=1.0,
    help="time travel: run the clock this many times as fast as real time, e.g. 600",
)
@METRICS_PORT
@with_container
def scheduler(
    container: Container, clock_start: datetime | None, clock_speed: float, metrics_port: int | None
) -> None:
    if clock_start is not None or clock_speed != 1:
        start = clock_start or container.clock().now()
        travelling = container.travelling_clock(start, clock_speed)
        container.clock.override(providers.Object(travelling))
    with published_metrics(container, metrics_port):
        _produce_reports(container)


def _produce_reports(container: Container) -> None:
    """The scheduler's work: due slots, until a signal stops it."""
    reports = container.reports()
    try:
        reports.check()
    except ObjectStoreUnreachable as error:
        # A store that is down now may be back soon: a missing bucket or a refusal would
        # not be, and end the command. Each due slot meanwhile fails and is tried again.
        logging.getLogger(__name__).warning(
            "scheduler not ready: %s; due reports are tried again as failed ones", error
        )
    produced = ReportScheduler(
        reports,
        container.clock(),
        container.settings().report_grace,
        lanes=container.lane_estimates(),
    )
    stop_on_signals(produced)
    produced.run()


@logistic.command(help="deliver webhook messages from the outbox (runs until stopped)")
@METRICS_PORT
@with_container
def dispatcher(container: Container, metrics_port: int | None) -> None:
    deliver_until_stopped(container, metrics_port)


@logistic.group(help="API keys (stored as SHA-256 digests)")
def keys() -> None:
    pass


@keys.command(help="make a key, print it once, store its digest")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([scope.value for scope in Scope]),
    help="a scope the key grants; repeat the option for several",
)
@with_container
def create(container: Container, scopes: tuple[str, ...]) -> None:
    key = container.access().create_key(parse_scopes(scopes))
    print(key, flush=True)
    print(
        f"only its SHA-256 is stored, in {container.settings().api_keys_file}:"
        " keep the key now, it is not shown again",
        file=sys.stderr,
    )


@logistic.command(
    help="apply the scans of FILE, one JSON object a line as an item of POST /events"
    " (FILE `-`: standard input), a batch at a time; lines that cannot be read or are"
    " refused are reported with their number and skipped (exit 1)",
    short_help="apply a file of scans (JSON lines), as POST /events does",
)
@click.argument("file", type=click.File("r", encoding="utf-8"))
@with_container
def ingest(container: Container, file: TextIO) -> None:
    if file.seekable():
        total = sum(1 for _ in file)
        file.seek(0)
        lines: Iterable[str] = file
    else:
        lines = file.readlines()
        total = len(lines)
    tally = ingest_lines(container, lines, total, sys.stderr)
    print(
        f"{tally.applied:,} events applied, {tally.replayed:,} applied before,"
        f" {tally.skipped:,} lines skipped",
        flush=True,
    )
    if tally.skipped:
        click.get_current_context().exit(1)


logistic.add_command(backtest_estimate)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `logistic` with `argv` (default: the process's arguments); the exit code."""
    try:
        code = logistic.main(args=argv, prog_name="logistic", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        click.echo("logistic: interrupted", err=True)
        return INTERRUPTED
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
