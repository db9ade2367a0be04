"""Webhooks end to end with real processes: `logistic serve`, `logistic dispatcher`, and a
receiver on 127.0.0.1 that verifies every signature with the `standardwebhooks` package.

The retry schedule, the timeout and the lease are compressed to fractions of seconds.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from logistic.domain.status import Status, allowed_next
from tests.integration.servers import LOGISTIC, ServiceProcess, create_key, running_service
from tests.integration.webhook_receiver import Received, Receiver, receiving
from tests.services import MARIADB_HOST, MARIADB_PORT, free_port, port_problem

ENV = {
    "LOGISTIC_WEBHOOK_ALLOW_HTTP": "on",
    "LOGISTIC_WEBHOOK_ALLOW_PRIVATE": "on",
    # Twenty-five attempts half a second apart: a few seconds of outage are survived.
    "LOGISTIC_WEBHOOK_RETRY_SCHEDULE": ",".join(["0"] + ["0.5"] * 24),
    "LOGISTIC_WEBHOOK_TIMEOUT": "1",
    "LOGISTIC_WEBHOOK_LEASE": "3",
    "LOGISTIC_WEBHOOK_CACHE_TTL": "0",
}
SCOPES = ("webhooks:write", "events:write", "fake:write")


@contextmanager
def dispatcher(
    service: ServiceProcess, name: str = "dispatcher", *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    log = (service.home / f"{name}.log").open("ab")
    process = subprocess.Popen(
        [str(LOGISTIC), "dispatcher", *options],
        # As under `logistic run`: its metrics go where the API's /metrics reads them.
        env={**service.env, "LOGISTIC_PORT": str(service.port)},
        cwd=service.home,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _call(service: ServiceProcess, method: str, path: str, key: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    reply = service.request(method, path, headers=headers, body=data)
    assert reply.status < 300, (reply.status, reply.body)
    return reply.json() if reply.body else None


def _subscribe(service: ServiceProcess, key: str, receiver: Receiver) -> dict[str, Any]:
    made: dict[str, Any] = _call(service, "POST", "/webhooks", key, {"url": receiver.url})["data"]
    receiver.secrets.append(made["secret"])
    return made


def _fake(service: ServiceProcess, key: str, orders: int) -> list[int]:
    snos = []
    while orders > 0:
        count = min(orders, 100)
        reply = service.request("GET", f"/fake?num={count}", {"Authorization": f"Bearer {key}"})
        assert reply.status == 200
        snos += [order["sno"] for order in reply.json()["data"]]
        orders -= count
    return snos


def _by_sno(deliveries: list[Received]) -> dict[str, set[str]]:
    ids: dict[str, set[str]] = defaultdict(set)
    for received in deliveries:
        ids[received.body["data"]["sno"]].add(received.webhook_id)
    return ids


def _attempts_logged(service: ServiceProcess, name: str) -> int:
    text = (service.home / f"{name}.log").read_text(errors="replace")
    marker = "dispatcher stopped after "
    assert marker in text, text[-3000:]
    return int(text.rsplit(marker, 1)[1].split()[0])


def test_a_dispatcher_killed_mid_batch_loses_nothing(tmp_path: Path) -> None:
    with running_service(ENV, tmp_path) as service, receiving() as receiver:
        key = create_key(service, *SCOPES)
        _subscribe(service, key, receiver)
        snos = _fake(service, key, 1000)

        with dispatcher(service) as first:
            receiver.wait_for(150, timeout_s=60)
            first.send_signal(signal.SIGKILL)
            first.wait()
        assert len(receiver.received) < 1000
        with dispatcher(service):
            deliveries = receiver.wait_for(1000, timeout_s=120)

    assert all(received.verified for received in receiver.received)
    ids = _by_sno(deliveries)
    # Every order's message arrived, each under one webhook-id however often it came.
    assert set(ids) == {str(sno) for sno in snos}
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
    assert {received.body["type"] for received in deliveries} == {"shipment.created"}


def _walks(service: ServiceProcess, snos: list[int], steps: int) -> dict[int, list[str]]:
    """For each order that can take `steps` more events, a chain of them the lifecycle allows."""
    walks = {}
    for sno in snos:
        details = service.get(f"/query?sno={sno}").json()["details"]
        history = [Status(detail["status"]) for detail in details]
        chain: list[str] = []
        while len(chain) < steps and allowed_next(history):
            following = sorted(allowed_next(history) - {Status.EXCEPTION}) or [Status.EXCEPTION]
            history.append(following[0])
            chain.append(following[0].value)
        if len(chain) == steps:
            walks[sno] = chain
    return walks


def test_an_outage_of_the_receiver_delays_but_loses_and_reorders_nothing(tmp_path: Path) -> None:
    with running_service(ENV, tmp_path) as service, receiving() as receiver:
        key = create_key(service, *SCOPES)
        snos = _fake(service, key, 40)
        walks = dict(list(_walks(service, snos, 3).items())[:6])
        assert len(walks) == 6
        made = _subscribe(service, key, receiver)
        with dispatcher(service):
            receiver.stop()  # connections refused
            for step in range(3):
                for sno, chain in walks.items():
                    _call(
                        service,
                        "POST",
                        f"/shipments/{sno}/events",
                        key,
                        {"status": chain[step], "location_id": 17},
                    )
            time.sleep(1.5)
            receiver.answer = 500
            receiver.start()
            time.sleep(1.5)
            receiver.hold_s = 1.5  # past the sender's timeout of 1 s
            time.sleep(2.5)
            receiver.answer, receiver.hold_s = 204, 0.0
            deliveries = receiver.wait_for(len(walks) * 3, timeout_s=60)
        failed = _call(service, "GET", f"/webhooks/{made['id']}/messages?status=delivered", key)

    answers = {received.answered for received in receiver.received}
    assert {500, 204} <= answers
    assert all(received.verified for received in receiver.received)
    assert len({r.webhook_id for r in deliveries}) == len(walks) * 3
    # Per order, the first delivery of each message came in the order of its events.
    firsts: dict[str, Received] = {}
    for received in deliveries:
        firsts.setdefault(received.webhook_id, received)
    for sno, chain in walks.items():
        seen = [
            r.body["data"]["tracking_status"]
            for r in sorted(firsts.values(), key=lambda r: r.at)
            if r.body["data"]["sno"] == str(sno)
        ]
        assert seen == chain
    listed = failed["data"]["messages"]
    assert any(len(message["attempts"]) > 1 for message in listed)
    assert any(a["status_code"] is None for m in listed for a in m["attempts"])


@pytest.fixture
def shared_database_url(request: pytest.FixtureRequest) -> str:
    """A fresh MariaDB database; its absence fails the test, never skips it (two dispatchers
    share work only on MariaDB, and CI counts a skip as a failure). A server that is slow to
    answer under load gets a few seconds first."""
    deadline = time.monotonic() + 10
    while (problem := port_problem(MARIADB_HOST, MARIADB_PORT)) and time.monotonic() < deadline:
        time.sleep(0.5)
    try:
        url: str = request.getfixturevalue("fresh_mariadb_url")
    except pytest.skip.Exception as skipped:
        problem = problem or str(skipped)
    else:
        return url
    pytest.fail(f"MariaDB at {MARIADB_HOST}:{MARIADB_PORT} is needed and unreachable: {problem}")


@pytest.mark.mariadb
def test_two_dispatchers_share_the_work_and_never_send_one_message_at_once(
    tmp_path: Path, shared_database_url: str
) -> None:
    env = {**ENV, "LOGISTIC_DATABASE_URL": shared_database_url, "LOGISTIC_WEBHOOK_WORKERS": "8"}
    with running_service(env, tmp_path) as service, receiving(hold_s=0.01) as receiver:
        key = create_key(service, *SCOPES)
        _subscribe(service, key, receiver)
        snos = _fake(service, key, 600)
        with dispatcher(service, "one"), dispatcher(service, "two"):
            deliveries = receiver.wait_for(600, timeout_s=120)

    assert receiver.overlaps == []
    assert set(_by_sno(deliveries)) == {str(sno) for sno in snos}
    one, two = _attempts_logged(service, "one"), _attempts_logged(service, "two")
    assert one > 0
    assert two > 0
    assert one + two >= 600


def test_rotation_410_and_the_ssrf_guard_on_the_real_server(tmp_path: Path) -> None:
    with running_service(ENV, tmp_path) as service, receiving() as receiver:
        key = create_key(service, *SCOPES)
        made = _subscribe(service, key, receiver)
        old = receiver.secrets.pop()
        rotated = _call(service, "POST", f"/webhooks/{made['id']}/rotate-secret", key)["data"]
        with dispatcher(service):
            receiver.secrets[:] = [old]
            _call(service, "POST", f"/webhooks/{made['id']}/test", key)
            (by_old,) = receiver.wait_for(1, timeout_s=30)
            receiver.secrets[:] = [rotated["secret"]]
            _call(service, "POST", f"/webhooks/{made['id']}/test", key)
            deliveries = receiver.wait_for(2, timeout_s=30)
            receiver.answer = 410
            _call(service, "POST", f"/webhooks/{made['id']}/test", key)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                state = _call(service, "GET", f"/webhooks/{made['id']}", key)["data"]
                if not state["enabled"]:
                    break
                time.sleep(0.1)
        assert not state["enabled"]

    assert all(received.verified for received in receiver.received)
    assert {received.signatures for received in deliveries} == {2}
    assert by_old.body["type"] == "webhook.test"


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path) -> None:
    env: Mapping[str, str] = {"LOGISTIC_WEBHOOK_ALLOW_HTTP": "on"}
    with running_service(env, tmp_path) as service:
        key = create_key(service, "webhooks:write")
        for url in ("http://localhost:9/in", "http://127.0.0.1/in", "https://10.1.2.3/in"):
            reply = service.request(
                "POST",
                "/webhooks",
                {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                json.dumps({"url": url}).encode(),
            )
            assert reply.status == 400, reply.body
            assert "address" in reply.json()["error"]["message"]


DELIVERIES = "logistic_webhook_deliveries_total"
BACKLOG_AGE = "logistic_webhook_oldest_undelivered_age_seconds"
Samples = dict[tuple[str, str], float]


def _metrics(url: str) -> Samples:
    """The webhook samples at `url`, by name and outcome ("" for the gauge)."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return {
        (sample.name, sample.labels.get("outcome", "")): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in (DELIVERIES, BACKLOG_AGE)
    }


def _scrape_until(url: str, log: Path, done: Callable[[Samples], bool]) -> Samples:
    deadline = time.monotonic() + 60
    while True:
        try:
            samples = _metrics(url)
            if done(samples):
                return samples
        except OSError:  # the dispatcher's port not open yet
            samples = {}
        assert time.monotonic() < deadline, (samples, log.read_text(errors="replace")[-3000:])
        time.sleep(0.2)


def test_the_dispatcher_serves_its_deliveries_and_backlog_on_its_metrics_port(
    tmp_path: Path,
) -> None:
    with running_service(ENV, tmp_path) as service, receiving() as receiver:
        key = create_key(service, *SCOPES)
        _subscribe(service, key, receiver)
        _fake(service, key, 20)
        port = free_port()
        with dispatcher(service, "metered", "--metrics-port", str(port)):
            receiver.wait_for(20, timeout_s=60)
            samples = _scrape_until(
                f"http://127.0.0.1:{port}/metrics",
                service.home / "metered.log",
                lambda s: s.get((DELIVERIES, "delivered")) == 20 and s.get((BACKLOG_AGE, "")) == 0,
            )
        api = _metrics(f"{service.url}/metrics")

    # Each attempt counted once by its outcome (a loaded receiver may time a few out).
    counted = {outcome: value for (name, outcome), value in samples.items() if name == DELIVERIES}
    assert counted["delivered"] == 20
    assert set(counted) <= {"delivered", "failed"}
    assert sum(counted.values()) == _attempts_logged(service, "metered")
    # Scraped on its own port: its counts stay out of the API's /metrics.
    assert (DELIVERIES, "delivered") not in api


def test_with_the_receiver_down_the_backlog_ages_in_the_apis_metrics(tmp_path: Path) -> None:
    with running_service(ENV, tmp_path) as service, receiving() as receiver:
        key = create_key(service, *SCOPES)
        _subscribe(service, key, receiver)
        receiver.stop()  # connections refused
        _fake(service, key, 5)
        url, log = f"{service.url}/metrics", service.home / "dispatcher.log"
        with dispatcher(service):
            first = _scrape_until(
                url, log, lambda s: s.get((DELIVERIES, "failed"), 0) > 0 and (BACKLOG_AGE, "") in s
            )
            aged = first[(BACKLOG_AGE, "")]
            later = _scrape_until(url, log, lambda s: s[(BACKLOG_AGE, "")] > aged)

    assert later[(BACKLOG_AGE, "")] > 0
    assert (DELIVERIES, "delivered") not in later
    assert receiver.received == []
