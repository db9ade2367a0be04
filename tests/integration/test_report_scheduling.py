"""Report scheduling on the real back ends: Redis locks, the S3 test server, real processes.

The last test is the issue's "done when": two `logistic scheduler` processes on
MariaDB, Redis and S3, on a clock that travels through three slots, leave
exactly three JSON and three CSV objects, each with the right figures.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import make_url

from logistic.adapters.clock import FixedClock
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_lock import RedisLock
from logistic.adapters.s3_store import S3ObjectStore, s3_client
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.report_figures import SqlReportFigures
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.report import Report
from logistic.domain.report_slot import ReportSlot
from logistic.entrypoints.scheduler import ReportScheduler
from tests.integration.servers import stop_gracefully
from tests.reporting import (
    STUCK_AFTER,
    TAIPEI,
    ZONE,
    RecordingStore,
    StaticFigures,
    generated_orders,
    reports_service,
)
from tests.services import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOGISTIC = Path(sys.executable).with_name("logistic")
GRACE = timedelta(hours=8)
AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Iterator[S3Client]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        yield s3_client(s3_endpoint, "us-east-1")


@pytest.fixture
def bucket(s3: S3Client) -> str:
    name = f"reports-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TAIPEI)


def environment(home: Path, **settings: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("LOGISTIC")}
    return {
        **inherited,
        **AWS_TEST_CREDENTIALS,
        "LOGISTIC_HOME": str(home),
        "LOGISTIC_LOG_LEVEL": "INFO",
        **settings,
    }


@pytest.mark.redis
@pytest.mark.s3
def test_two_schedulers_sharing_redis_and_s3_write_one_pair_per_slot(
    redis_url: str, redis_prefix: str, s3: S3Client, bucket: str
) -> None:
    clock, store = FixedClock(at(24, 23)), RecordingStore(S3ObjectStore(s3, bucket))
    clients = [redis_client(url=redis_url, timeout_seconds=1) for _ in range(2)]
    locks = [RedisLock(client, redis_prefix) for client in clients]
    second_figures = StaticFigures()
    second = ReportScheduler(
        reports_service(clock, store=store, lock=locks[1], figures=second_figures), clock, GRACE
    )
    # While the first computes each report, the second wakes up and tries the same slot.
    first = ReportScheduler(
        reports_service(clock, store=store, lock=locks[0], figures=StaticFigures(second.tick)),
        clock,
        GRACE,
    )
    try:
        while clock.now() < at(26, 0):
            first.tick()
            second.tick()
            clock.advance(timedelta(minutes=20))
    finally:
        for client in clients:
            client.close()

    keys = store.list("reports/")
    assert [key for key in keys if key.startswith("reports/2026/11/25/")] == [
        f"reports/2026/11/25/{hour}.{extension}"
        for hour in ("0000", "0800", "1600")
        for extension in ("csv", "json")
    ]
    assert set(store.writes.values()) == {1}
    assert second_figures.as_of == []


@pytest.mark.redis
@pytest.mark.s3
def test_schedulers_ticking_at_the_same_moment_write_each_object_once(
    redis_url: str, redis_prefix: str, s3: S3Client, bucket: str
) -> None:
    clock, store = FixedClock(at(25, 8, 1)), RecordingStore(S3ObjectStore(s3, bucket))
    clients = [redis_client(url=redis_url, timeout_seconds=1) for _ in range(4)]
    schedulers = [
        ReportScheduler(
            reports_service(
                clock,
                store=store,
                lock=RedisLock(client, redis_prefix),
                figures=StaticFigures(lambda: time.sleep(0.05)),
            ),
            clock,
            timedelta(hours=17),  # three slots are due at once
        )
        for client in clients
    ]
    start = threading.Barrier(len(schedulers))

    def tick(scheduler: ReportScheduler) -> None:
        start.wait()
        scheduler.tick()

    threads = [threading.Thread(target=tick, args=(scheduler,)) for scheduler in schedulers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        for client in clients:
            client.close()

    assert len(store.list("reports/")) == 6
    assert set(store.writes.values()) == {1}


def test_logistic_report_produces_the_latest_slot_once_on_the_embedded_default(
    tmp_path: Path,
) -> None:
    env = environment(tmp_path)
    subprocess.run([LOGISTIC, "seed", "--orders", "20"], env=env, check=True, capture_output=True)

    first = subprocess.run([LOGISTIC, "report"], env=env, capture_output=True, text=True)
    again = subprocess.run([LOGISTIC, "report"], env=env, capture_output=True, text=True)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(": published")
    assert again.stdout.strip().endswith(": already published")
    written = sorted(path.suffix for path in (tmp_path / "reports").rglob("[0-9]*.*"))
    assert written == [".csv", ".json"]


def test_logistic_report_refuses_a_malformed_or_future_slot(tmp_path: Path) -> None:
    env = environment(tmp_path)

    malformed = subprocess.run(
        [LOGISTIC, "report", "--slot", "2026-11-25T09:00"], env=env, capture_output=True, text=True
    )
    future = subprocess.run(
        [LOGISTIC, "report", "--slot", "2999-01-01T00:00"], env=env, capture_output=True, text=True
    )

    assert malformed.returncode == 1
    assert "reports are made at hours" in malformed.stderr
    assert future.returncode == 1
    assert "has not started yet" in future.stderr


@pytest.mark.s3
def test_a_missing_bucket_stops_the_scheduler_at_start_with_a_clear_message(
    s3_endpoint: str, tmp_path: Path
) -> None:
    env = environment(
        tmp_path,
        LOGISTIC_S3_BUCKET="no-such-bucket",
        LOGISTIC_S3_ENDPOINT_URL=s3_endpoint,
        LOGISTIC_S3_REGION="us-east-1",
    )

    done = subprocess.run(
        [LOGISTIC, "scheduler"], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    assert "S3 bucket 'no-such-bucket'" in done.stderr
    assert "does not exist" in done.stderr


def _start_scheduler(env: dict[str, str], log: Path, *options: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [LOGISTIC, "scheduler", *options],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.mariadb
@pytest.mark.redis
@pytest.mark.s3
@pytest.mark.slow
def test_two_scheduler_processes_travelling_through_three_slots_publish_each_once(
    fresh_mariadb_url: str,
    redis_url: str,
    redis_prefix: str,
    s3_endpoint: str,
    s3: S3Client,
    bucket: str,
    tmp_path: Path,
) -> None:
    engine = create_engine(fresh_mariadb_url)
    upgrade(engine)
    SqlLocationCatalog(engine).sync(LOGISTICS_CENTERS)
    orders = generated_orders(300, seed=21, now=at(24, 23))
    SqlShipmentRepository(engine).add_many(orders)
    env = environment(
        tmp_path,
        LOGISTIC_DATABASE_URL=make_url(fresh_mariadb_url).render_as_string(hide_password=False),
        LOGISTIC_REDIS_URL=redis_url,
        LOGISTIC_REDIS_PREFIX=redis_prefix,
        LOGISTIC_S3_BUCKET=bucket,
        LOGISTIC_S3_ENDPOINT_URL=s3_endpoint,
        LOGISTIC_S3_REGION="us-east-1",
    )
    # 00:30 in Taipei: the midnight slot is caught up at start, 08:00 comes 7.5 s
    # later and 16:00 after 15.5 s; the next slot would come 8 s after that.
    travel = ("--clock-start", "2026-11-25T00:30:00+08:00", "--clock-speed", "3600")
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = [_start_scheduler(env, log, *travel) for log in logs]
    try:
        deadline = time.monotonic() + 90
        while len(store_keys(s3, bucket, ".json")) < 3:
            assert all(process.poll() is None for process in processes), read(logs)
            assert time.monotonic() < deadline, read(logs)
            time.sleep(0.2)
    finally:
        codes = [stop_gracefully(process) for process in processes]

    assert codes == [0, 0], read(logs)
    slots = [ReportSlot(date(2026, 11, 25), hour, ZONE) for hour in (0, 8, 16)]
    assert store_keys(s3, bucket, ".json") == [slot.key("json") for slot in slots]
    assert store_keys(s3, bucket, ".csv") == [slot.key("csv") for slot in slots]
    text = read(logs)
    assert text.count("published at reports/") == 3, text
    assert text.count("scheduler stopped") == 2, text
    figures = SqlReportFigures(engine)
    for slot in slots:
        body = s3.get_object(Bucket=bucket, Key=slot.key("json"))["Body"].read()
        document = json.loads(body)
        assert document["total_orders"] == len(orders)
        generated_at = datetime.fromisoformat(document["generated_at"])
        expected = Report(slot, generated_at, figures.figures(slot.starts_at, STUCK_AFTER))
        assert body == expected.to_json_bytes()
        stored = s3.head_object(Bucket=bucket, Key=slot.key("json"))["Metadata"]
        assert stored["sha256"] == expected.sha256
    engine.dispose()


def store_keys(s3: S3Client, bucket: str, suffix: str) -> list[str]:
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(key for item in listed if (key := item.get("Key", "")).endswith(suffix))


def read(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(child) for child in listed.split()]


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.slow
def test_logistic_run_serves_with_a_scheduler_beside_it_and_stops_both(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [LOGISTIC, "run", "--port", str(port)],
            env=environment(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        # The latest slot started less than the grace window ago, so it is caught up at start.
        while not list((tmp_path / "reports").rglob("[0-9]*.json")):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        schedulers = [pid for pid in _children(process.pid) if " scheduler" in _command_line(pid)]
        assert len(schedulers) == 1, log.read_text()
        listing = get_json(port, "/reports")
        assert len(listing["data"]["reports"]) == 1
    finally:
        process.send_signal(signal.SIGTERM)  # the server only, as a supervisor would
        code = process.wait(timeout=60)

    assert code == 0, log.read_text()
    assert not _alive(schedulers[0])
    assert "scheduler stopped" in log.read_text()


def get_json(port: int, path: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()
