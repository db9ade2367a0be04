"""`make faults`: load through a two-worker server while its back ends and a worker fail.

Private MariaDB, Redis and S3 (moto) servers of its own, and `logistic serve` with two
workers in front of them. Readers look orders up, a writer records In Transit scans on
them, and each phase pauses (SIGSTOP) or kills one back end or a worker meanwhile. Every
answer is classified; a lookup is stale when it shows fewer events than were
acknowledged before it was sent; at the end, every acknowledged event must be stored.
"Connection dropped" counts requests that got no answer at all: those in flight on a
worker killed with SIGKILL.

    .venv/bin/python -m tests.integration.fault_suite
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import boto3
from attrs import define, field

from logistic.domain.status import Status, allowed_next
from tests.integration.private_mariadb import private_mariadb
from tests.integration.private_s3 import AWS_TEST_ENVIRONMENT, private_s3
from tests.integration.servers import ServiceProcess, create_key, private_redis, running_service
from tests.integration.test_worker_respawn import worker_pids

HANG_S = 5.0
READERS = 4
ORDERS = 8


@define
class Tally:
    requests: int = 0
    ok: int = 0
    json_503: int = 0
    other: int = 0
    dropped: int = 0
    hangs: int = 0
    stale: int = 0
    others_seen: list[str] = field(factory=list)

    def row(self, name: str, lost: str = "") -> str:
        return (
            f"| {name} | {self.requests} | {self.ok} | {self.json_503} | {self.other} | "
            f"{self.dropped} | {self.hangs} | {self.stale} | {lost} |"
        )


class Load:
    """Readers and a writer on `snos` until stopped; each answer counted in `tally`."""

    def __init__(self, port: int, key: str, events: dict[int, int]) -> None:
        self._port = port
        self._key = key
        self.acknowledged = dict(events)
        self._lock = threading.Lock()
        self.tally = Tally()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._read) for _ in range(READERS)]
        self._threads.append(threading.Thread(target=self._write))
        for thread in self._threads:
            thread.start()

    def stop(self) -> Tally:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        tally, self.tally = self.tally, Tally()
        return tally

    def _call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=HANG_S * 3)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            status, data = response.status, response.read()
            json_reply = response.getheader("Content-Type", "").startswith("application/json")
        except OSError as error:
            status, data, json_reply = 0, repr(error).encode(), False
        finally:
            connection.close()
        took = time.monotonic() - started
        with self._lock:
            tally = self.tally
            tally.requests += 1
            tally.hangs += took > HANG_S
            if 200 <= status < 300:
                tally.ok += 1
            elif status == 503 and json_reply:
                tally.json_503 += 1
            elif status == 0:
                tally.dropped += 1
            else:
                tally.other += 1
                tally.others_seen.append(f"{method} {path}: {status} {data[:120]!r}")
        return status, data

    def _read(self) -> None:
        while not self._stop.is_set():
            dice = random.random()
            if dice < 0.05:
                self._call("GET", "/readyz")  # reads S3 too, as the reports do
                continue
            if dice < 0.1:
                self._call("GET", "/reports?date=2026-11-25")
                continue
            sno = random.choice(list(self.acknowledged))
            before = self.acknowledged[sno]
            status, data = self._call("GET", f"/query?sno={sno}")
            if status == 200 and len(json.loads(data)["details"]) < before:
                with self._lock:
                    self.tally.stale += 1

    def _write(self) -> None:
        snos = list(self.acknowledged)
        turn = 0
        while not self._stop.is_set():
            sno = snos[turn % len(snos)]
            turn += 1
            scan = {"status": "In Transit", "location_id": 1 + turn % 5}
            status, data = self._call("POST", f"/shipments/{sno}/events", json.dumps(scan).encode())
            if status == 201:
                shown = len(json.loads(data)["details"])
                with self._lock:
                    self.acknowledged[sno] = max(self.acknowledged[sno], shown)


@contextmanager
def phase(load: Load, rows: list[str], name: str) -> Iterator[None]:
    load.start()
    try:
        yield
    finally:
        tally = load.stop()
        rows.append(tally.row(name))
        # Only requests in flight on a killed worker may go unanswered.
        dropped_allowed = "worker" in name
        if tally.other or tally.hangs or tally.stale or (tally.dropped and not dropped_allowed):
            load.failures.append(name)
        for seen in tally.others_seen[:5]:
            print(f"  {name}: {seen}", file=sys.stderr)


def _in_transit(service: ServiceProcess) -> dict[int, int]:
    """Orders that may take In Transit scans, with their event counts."""
    found: dict[int, int] = {}
    while len(found) < ORDERS:
        for order in service.get("/fake?num=50").json()["data"]:
            history = [Status(detail["tracking_status"]) for detail in order["details"]]
            if history[-1] is Status.IN_TRANSIT and Status.IN_TRANSIT in allowed_next(history):
                found[order["sno"]] = len(history)
    return dict(list(found.items())[:ORDERS])


def _lost(service: ServiceProcess, acknowledged: dict[int, int]) -> int:
    deadline = time.monotonic() + 60
    while service.get("/readyz").status != 200:
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready after the faults:\n{service.log()}")
        time.sleep(0.5)
    lost = 0
    for sno, count in acknowledged.items():
        stored = len(service.get(f"/query?sno={sno}").json()["details"])
        lost += max(0, count - stored)
    return lost


def run(home: Path, steady_s: float = 3.0, fault_s: float = 4.0) -> tuple[str, list[str]]:
    """The table, and the phases that missed the goal (no other status, hang, stale
    answer, unanswered request but on a killed worker; no acknowledged event lost)."""
    rows: list[str] = []
    with ExitStack() as stack:
        os.environ.update(AWS_TEST_ENVIRONMENT)
        database = stack.enter_context(private_mariadb(home / "mariadb"))
        redis_server = stack.enter_context(private_redis(home))
        s3_server = stack.enter_context(private_s3(home))
        bucket = f"reports-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=s3_server.url).create_bucket(Bucket=bucket)
        env = {
            **AWS_TEST_ENVIRONMENT,
            "LOGISTIC_DATABASE_URL": database.create_database("faults"),
            "LOGISTIC_REDIS_URL": redis_server.url,
            "LOGISTIC_S3_BUCKET": bucket,
            "LOGISTIC_S3_ENDPOINT_URL": s3_server.url,
            "LOGISTIC_WORKERS": "2",
        }
        service = stack.enter_context(running_service(env, home))
        events = _in_transit(service)
        load = Load(service.port, create_key(service, "events:write", "reports:read"), events)

        def paused(name: str, pause: Callable[[], AbstractContextManager[None]]) -> None:
            with phase(load, rows, name):
                with pause():
                    time.sleep(fault_s)
                time.sleep(steady_s)

        with phase(load, rows, "steady"):
            time.sleep(steady_s)
        paused("Redis paused 4 s", redis_server.paused)
        with phase(load, rows, "Redis killed, restarted after 4 s"):
            redis_server.stop()
            time.sleep(fault_s)
            redis_server.start()
            time.sleep(steady_s)
        paused("MariaDB paused 4 s", database.paused)
        paused("S3 paused 4 s", s3_server.paused)
        with phase(load, rows, "a worker killed (-9)"):
            os.kill(min(worker_pids(service)), signal.SIGKILL)
            time.sleep(fault_s + steady_s)
        lost = _lost(service, load.acknowledged)
        failures = [*load.failures, *(["acknowledged events lost"] if lost else [])]
    header = [
        "| phase | requests | 2xx | JSON 503 | other statuses | connection dropped | hangs > 5 s"
        " | stale | acknowledged lost |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    return "\n".join([*header, *rows, f"| **after all** | | | | | | | | {lost} |"]), failures


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="logistic-faults-") as home:
        table, failures = run(Path(home))
    print(table)
    if failures:
        raise SystemExit(f"faults: the goal was missed in {', '.join(failures)}")


if __name__ == "__main__":
    main()
