"""Seeding against real back ends, and `logistic seed` as a real process: exactly N whole
orders, only the missing ones added, plain progress lines off a terminal, and Ctrl-C
leaving whole batches only."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from logistic.adapters.clock import FixedClock
from logistic.adapters.faker_people import FakerContacts
from logistic.adapters.memory import MemoryCache, MemoryShipmentRepository
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.tables import orders, recipients, tracking_events
from logistic.domain.status import Status, is_valid_history
from logistic.services.locations import Locations
from logistic.services.seeding import Seeding
from logistic.services.tracking import Tracking
from tests.integration.sql_backends import Backend
from tests.unit.test_seeding import NOW, assert_valid

CONTACTS = FakerContacts(pool_size=100)
STORED = re.compile(r"interrupted: ([\d,]+) orders added \(whole batches only\), ([\d,]+) stored")


def seeding(backend: Backend) -> Seeding:
    clock = FixedClock(NOW)
    zone = ZoneInfo("Asia/Taipei")
    locations = Locations(backend.locations)
    tracking = Tracking(backend.shipments, locations, MemoryCache(clock), zone, timedelta(hours=4))
    return Seeding(
        shipments=backend.shipments,
        locations=locations,
        contacts=CONTACTS,
        clock=clock,
        zone=zone,
        tracking=tracking,
    )


def broken_orders(engine: Engine) -> int:
    """Orders whose summary disagrees with their events: a half-written order shows here."""
    events = tracking_events.alias("events")
    last_status = (
        select(events.c.status)
        .where(events.c.order_sno == orders.c.sno)
        .order_by(events.c.occurred_at.desc(), events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    event_total = select(func.count()).where(events.c.order_sno == orders.c.sno).scalar_subquery()
    query = (
        select(func.count())
        .select_from(orders)
        .where(
            (orders.c.event_count != event_total)
            | orders.c.current_status.is_distinct_from(last_status)
            | (orders.c.event_count == 0)
        )
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            int(connection.execute(select(func.count()).select_from(orders)).scalar_one()),
            int(connection.execute(select(func.count()).select_from(recipients)).scalar_one()),
        )


# --- the service, on every back end -------------------------------------------------------


def test_seeding_stores_exactly_n_whole_valid_orders(shipment_backend: Backend) -> None:
    service = seeding(shipment_backend)

    assert service.seed(2_300, seed=11, batch_size=1_000) == 2_300
    assert service.seed(2_300, seed=11, batch_size=1_000) == 0

    repository = shipment_backend.shipments
    assert repository.count() == 2_300
    if isinstance(repository, MemoryShipmentRepository):
        shipments = repository.all()
    else:
        assert shipment_backend.engine is not None
        assert counts(shipment_backend.engine) == (2_300, 2_300)
        assert broken_orders(shipment_backend.engine) == 0
        with shipment_backend.engine.connect() as connection:
            snos = connection.execute(select(orders.c.sno)).scalars().all()
        shipments = [shipment for sno in snos if (shipment := repository.get(sno))]
    assert len(shipments) == 2_300
    for shipment in shipments:
        assert_valid(shipment)


# --- the command, as a process ------------------------------------------------------------


def command_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGISTIC_")}
    env["LOGISTIC_HOME"] = str(home)
    env["LOGISTIC_LOG_LEVEL"] = "WARNING"
    if database_url is not None:
        env["LOGISTIC_DATABASE_URL"] = database_url
    return env


def seed_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "logistic.entrypoints.cli", "seed", *args]


def run_seed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        seed_command(*args), env=env, capture_output=True, text=True, timeout=120, check=True
    )


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{home / 'logistic.db'}"


@pytest.fixture
def sqlite_home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_the_command_adds_only_the_missing_orders_and_says_so(sqlite_home: Path) -> None:
    env = command_env(sqlite_home)
    engine = create_engine(sqlite_url(sqlite_home))
    try:
        first = run_seed(env, "--orders", "1500", "--batch-size", "500", "--workers", "1")
        again = run_seed(env, "--orders", "1000")
        more = run_seed(env, "--orders", "2200", "--batch-size", "500", "--workers", "1")

        assert "0 orders are stored; adding 1,500" in first.stdout
        assert "1,500 orders added; 1,500 stored" in first.stdout
        assert "1,500 orders are stored (1,000 wanted): none added" in again.stdout
        assert "1,500 orders are stored; adding 700" in more.stdout
        assert counts(engine) == (2_200, 2_200)
        assert broken_orders(engine) == 0
    finally:
        engine.dispose()


def test_off_a_terminal_progress_is_plain_lines(sqlite_home: Path) -> None:
    done = run_seed(
        command_env(sqlite_home), "--orders", "2000", "--batch-size", "200", "--workers", "1"
    )

    lines = [line for line in done.stderr.splitlines() if line.startswith("seeding")]
    assert 2 <= len(lines) <= 11
    assert all(re.fullmatch(r"seeding: [\d,]+/2,000 \(\d+%\), .*elapsed", line) for line in lines)
    assert lines[-1].startswith("seeding: 2,000/2,000 (100%)")
    assert "\r" not in done.stderr


def test_the_same_seed_gives_the_same_batches_whatever_the_workers(tmp_path: Path) -> None:
    def batches(home: Path, workers: str) -> list[list[tuple[object, ...]]]:
        run_seed(
            command_env(home),
            *("--orders", "1500", "--seed", "9", "--batch-size", "500", "--workers", workers),
        )
        engine = create_engine(sqlite_url(home))
        # Histories are cut at "now", which moves between runs: compare the rest.
        query = (
            select(
                recipients.c.name,
                recipients.c.phone,
                recipients.c.address,
                orders.c.origin_id,
                orders.c.destination_id,
            )
            .select_from(orders.join(recipients, recipients.c.id == orders.c.recipient_id))
            .order_by(orders.c.sno)
        )
        try:
            with engine.connect() as connection:
                rows = [tuple(row) for row in connection.execute(query)]
        finally:
            engine.dispose()
        return [rows[start : start + 500] for start in range(0, len(rows), 500)]

    alone, together = batches(tmp_path / "alone", "1"), batches(tmp_path / "together", "2")

    assert [len(batch) for batch in alone] == [500, 500, 500]
    # Several workers store the same batches; each takes its sno block when it is ready.
    assert sorted(alone) == sorted(together)


def wait_for_orders(engine: Engine, at_least: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if counts(engine)[0] >= at_least:
                return
        except (OperationalError, ProgrammingError):
            pass  # the schema is not there yet
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} orders after a minute")


def _sigint_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("database", "workers"),
    [
        *[("sqlite", workers) for workers in ("1", "2")],
        pytest.param("mariadb", "2", marks=pytest.mark.mariadb),
    ],
)
def test_ctrl_c_leaves_whole_orders_and_the_same_command_resumes(
    database: str, workers: str, sqlite_home: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        sqlite_url(sqlite_home)
        if database == "sqlite"
        else str(request.getfixturevalue("fresh_mariadb_url"))
    )
    env = command_env(sqlite_home, url)
    engine = create_engine(url)
    try:
        process = subprocess.Popen(
            seed_command("--orders", "400000", "--batch-size", "1000", "--workers", workers),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Ctrl-C as at a terminal: a suite started in the background by a shell
            # inherits SIGINT ignored, and Python then keeps ignoring it.
            preexec_fn=_sigint_by_default,
        )
        try:
            wait_for_orders(engine, 3_000, process)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()

        assert process.returncode == 130, err
        reported = STORED.search(out)
        assert reported is not None, out
        added, stored = (int(group.replace(",", "")) for group in reported.groups())
        assert added == stored
        assert stored % 1_000 == 0
        assert 3_000 <= stored < 400_000
        assert counts(engine) == (stored, stored)
        assert broken_orders(engine) == 0

        resumed = run_seed(env, "--orders", str(stored + 1_500), "--batch-size", "1000")
        assert f"{stored:,} orders are stored; adding 1,500" in resumed.stdout
        assert counts(engine) == (stored + 1_500, stored + 1_500)
        assert broken_orders(engine) == 0
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_several_workers_store_exactly_n_whole_orders_in_mariadb(
    fresh_mariadb_url: str, tmp_path: Path
) -> None:
    env = command_env(tmp_path, fresh_mariadb_url)
    done = run_seed(env, "--orders", "4500", "--batch-size", "1000", "--workers", "2")

    engine = create_engine(fresh_mariadb_url)
    try:
        assert "4,500 orders added; 4,500 stored" in done.stdout
        assert counts(engine) == (4_500, 4_500)
        assert broken_orders(engine) == 0
        with engine.connect() as connection:
            statuses = connection.execute(
                select(tracking_events.c.order_sno, tracking_events.c.status).order_by(
                    tracking_events.c.order_sno, tracking_events.c.occurred_at, tracking_events.c.id
                )
            ).all()
        histories: dict[int, list[Status]] = {}
        for sno, status in statuses:
            histories.setdefault(sno, []).append(Status(status))
        assert len(histories) == 4_500
        assert all(is_valid_history(history) for history in histories.values())
    finally:
        engine.dispose()
