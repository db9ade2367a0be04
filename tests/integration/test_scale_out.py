"""Scale-out on one machine: nginx in front of two API processes, two schedulers beside them.

Everything runs on 127.0.0.1 and shares one MariaDB database, one Redis key
prefix and one S3 bucket, as replicas on several machines would. nginx runs the
shipped site file (deploy/nginx/logistic.conf) with only its ports changed. One
API process is killed (SIGKILL) and restarted under load; the two schedulers
travel through three report slots meanwhile.
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import redis
from attrs import define, field
from sqlalchemy import select
from sqlalchemy.engine import Engine

from logistic.adapters.s3_store import s3_client
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.tables import orders, tracking_events
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status, allowed_next
from logistic.services.etag import tagged
from logistic.services.tracking import tracking_key
from tests.integration.nginx import SITE, Nginx, check_config, require_nginx, running_nginx, send
from tests.integration.servers import LOGISTIC, Reply, ServiceProcess, create_key, stop_gracefully
from tests.reporting import ZONE
from tests.services import own_database

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = [pytest.mark.mariadb, pytest.mark.redis, pytest.mark.s3, pytest.mark.slow]

AWS_TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# 00:30 in Taipei: the midnight slot is caught up at start, 08:00 comes 7.5 s later
# and 16:00 after 15.5 s (the next one would come 8 s after that).
TRAVEL = ("--clock-start", "2026-11-25T00:30:00+08:00", "--clock-speed", "3600")
SLOTS = [ReportSlot(date(2026, 11, 25), hour, ZONE) for hour in (0, 8, 16)]
SEEDED_ORDERS = 60
LOAD_SECONDS = 10.0
KILL_AFTER_SECONDS = 3.0
SERVED_AFTER_RESTART_SECONDS = 3.0
QUERY_THREADS = 4
FAKE_THREADS = 2
FAKE_NUM = 5
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# The client of the load; the other loopback addresses play clients of their own.
LOAD_CLIENT = "127.0.0.1"


@define
class Cluster:
    apis: tuple[ServiceProcess, ServiceProcess]
    nginx: Nginx
    schedulers: list[subprocess.Popen[bytes]]
    scheduler_logs: list[Path]
    key: str
    engine: Engine
    redis: redis.Redis
    prefix: str
    s3: S3Client
    bucket: str
    snos: list[int] = field(factory=list)

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def fake(self, num: int, via: ServiceProcess | None = None) -> list[dict[str, Any]]:
        path = f"/fake?num={num}"
        reply = (
            via.request("GET", path, headers=self.bearer)
            if via is not None
            else self.nginx.request("GET", path, headers=self.bearer)
        )
        assert reply.status == 200, reply
        created: list[dict[str, Any]] = reply.json()["data"]
        return created


# -- the shared back ends, one set for the module ---------------------------------------


@pytest.fixture(scope="module")
def database(mariadb_url: str) -> Iterator[str]:
    with own_database("scale") as url:
        yield url


@pytest.fixture(scope="module")
def shared_redis(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    prefix = f"logistic-test:{uuid.uuid4().hex[:10]}:"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture(scope="module")
def versioned_bucket(s3_endpoint: str) -> Iterator[tuple[S3Client, str]]:
    """A bucket that keeps every version: a report written twice would show two."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        s3 = s3_client(s3_endpoint, "us-east-1")
        bucket = f"scale-out-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        yield s3, bucket


def _restartable_port() -> int:
    """A free port below the ephemeral range, so that a killed process can bind it again.

    While its process is down, a port of the ephemeral range may become the source
    port of an outgoing connection (one of nginx's keepalive connections to the other
    process, say); the restarted process could not bind it until that one closed.
    """
    try:
        low = int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError):
        low = 32768
    for port in random.sample(range(max(1024, low - 10_000), low), 100):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port found below {low}")


def _start_scheduler(api: ServiceProcess, home: Path) -> subprocess.Popen[bytes]:
    home.mkdir()
    with (home / "scheduler.log").open("wb") as log:
        return subprocess.Popen(
            [str(LOGISTIC), "scheduler", *TRAVEL],
            env={**api.env, "LOGISTIC_HOME": str(home)},
            cwd=home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.fixture(scope="module")
def cluster(
    database: str,
    shared_redis: tuple[redis.Redis, str],
    versioned_bucket: tuple[S3Client, str],
    redis_url: str,
    s3_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    require_nginx()
    client, prefix = shared_redis
    s3, bucket = versioned_bucket
    home = tmp_path_factory.mktemp("scale-out")
    env = {
        **AWS_TEST_CREDENTIALS,
        "LOGISTIC_DATABASE_URL": database,
        "LOGISTIC_REDIS_URL": redis_url,
        "LOGISTIC_REDIS_PREFIX": prefix,
        "LOGISTIC_S3_BUCKET": bucket,
        "LOGISTIC_S3_ENDPOINT_URL": s3_endpoint,
        "LOGISTIC_S3_REGION": "us-east-1",
        "LOGISTIC_API_KEYS_FILE": str(home / "api-keys"),
        "LOGISTIC_TRUSTED_PROXIES": "127.0.0.1",
        # Per client, shared through Redis: far above what the load sends.
        "LOGISTIC_RATE_LIMIT": "100000/minute",
        "LOGISTIC_FAKE_API": "on",
        "LOGISTIC_WORKERS": "2",
    }
    apis = []
    for name in ("api-a", "api-b"):
        (home / name).mkdir()
        api = ServiceProcess(env, home / name)
        api.port = _restartable_port()
        apis.append(api)
    first, second = apis
    engine = create_engine(database)
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        # Every replica migrates at start; they queue on the migration lock.
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(ServiceProcess.migrate, apis))
        key = create_key(first, "events:write", "fake:write", "reports:read")
        for api in apis:
            stack.callback(api.stop)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(ServiceProcess.start, apis))
        nginx = stack.enter_context(running_nginx(home / "nginx", [first.port, second.port]))
        schedulers, logs = [], []
        for name in ("scheduler-1", "scheduler-2"):
            schedulers.append(_start_scheduler(first, home / name))
            stack.callback(stop_gracefully, schedulers[-1])
            logs.append(home / name / "scheduler.log")
        cluster = Cluster(
            (first, second), nginx, schedulers, logs, key, engine, client, prefix, s3, bucket
        )
        cluster.snos = [order["sno"] for order in cluster.fake(SEEDED_ORDERS)]
        yield cluster


# -- the shipped site ----------------------------------------------------------------------


def test_the_shipped_site_passes_nginx_t(tmp_path: Path) -> None:
    require_nginx()
    checked = check_config(tmp_path, SITE.read_text())
    assert checked.returncode == 0, checked.stderr


# -- one API process killed under load ----------------------------------------------------


class Outcome(NamedTuple):
    kind: str  # "query" or "fake"
    started: float  # time.monotonic()
    ended: float
    status: int | None  # None: no answer at all
    error: str | None
    created: tuple[dict[str, Any], ...]  # the orders a /fake answered

    def failed(self) -> bool:
        return self.status != 200

    def in_flight_at(self, moment: float) -> bool:
        return self.started <= moment <= self.ended


class Load:
    """A few threads sending /query (known snos) and /fake through nginx until stopped."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self._threads = [
            threading.Thread(target=self._queries, args=(number,))
            for number in range(QUERY_THREADS)
        ] + [threading.Thread(target=self._fakes) for _ in range(FAKE_THREADS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self._outcomes

    def _send(self, kind: str, path: str) -> Outcome:
        started = time.monotonic()
        try:
            reply = send(self._cluster.nginx.port, "GET", path, self._cluster.bearer)
        except OSError as error:
            return Outcome(kind, started, time.monotonic(), None, repr(error), ())
        ended = time.monotonic()
        created = tuple(reply.json()["data"]) if kind == "fake" and reply.status == 200 else ()
        error = None if reply.status == 200 else reply.body[:200].decode(errors="replace")
        return Outcome(kind, started, ended, reply.status, error, created)

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)

    def _queries(self, number: int) -> None:
        snos = self._cluster.snos
        index = number
        while not self._stop.is_set():
            self._record(self._send("query", f"/query?sno={snos[index % len(snos)]}"))
            index += QUERY_THREADS

    def _fakes(self) -> None:
        while not self._stop.is_set():
            self._record(self._send("fake", f"/fake?num={FAKE_NUM}"))


class StoredOrder(NamedTuple):
    event_count: int
    current_status: str | None
    current_location_id: int | None
    events: tuple[tuple[str, int], ...]  # (status, location_id), oldest first


def _stored_orders(engine: Engine) -> dict[int, StoredOrder]:
    history: dict[int, list[tuple[str, int]]] = defaultdict(list)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                orders.c.sno,
                orders.c.event_count,
                orders.c.current_status,
                orders.c.current_location_id,
            )
        ).all()
        events = connection.execute(
            select(
                tracking_events.c.order_sno,
                tracking_events.c.status,
                tracking_events.c.location_id,
            ).order_by(
                tracking_events.c.order_sno, tracking_events.c.occurred_at, tracking_events.c.id
            )
        ).all()
    for sno, status, location_id in events:
        history[sno].append((status, location_id))
    return {
        sno: StoredOrder(count, status, location, tuple(history.get(sno, ())))
        for sno, count, status, location in rows
    }


def _half_written(stored: dict[int, StoredOrder]) -> list[str]:
    problems = []
    for sno, order in stored.items():
        if not order.events or order.event_count != len(order.events):
            problems.append(f"{sno}: event_count {order.event_count}, {len(order.events)} events")
        elif (order.current_status, order.current_location_id) != order.events[-1]:
            problems.append(f"{sno}: current {order.current_status}, last {order.events[-1]}")
    return problems


def _missing(stored: dict[int, StoredOrder], answered: list[dict[str, Any]]) -> list[str]:
    problems = []
    for order in answered:
        told = tuple((d["tracking_status"], d["location_id"]) for d in order["details"])
        found = stored.get(int(order["sno"]))
        if found is None or found.events != told:
            problems.append(f"{order['sno']}: answered {told}, stored {found}")
    return problems


def _offsets(outcomes: list[Outcome], moment: float) -> str:
    return ", ".join(f"{outcome.ended - moment:+.2f}" for outcome in outcomes) or "-"


def test_killing_one_api_process_under_load_fails_no_lookup_and_half_writes_nothing(
    cluster: Cluster,
) -> None:
    killed = cluster.apis[0]
    load = Load(cluster)
    began = time.monotonic()
    load.start()
    try:
        time.sleep(KILL_AFTER_SECONDS)
        killed_at = time.monotonic()
        killed.kill()
        killed.start()  # returns once /healthz answers
        back_at, back_wall = time.monotonic(), time.time()
        time.sleep(max(began + LOAD_SECONDS, back_at + SERVED_AFTER_RESTART_SECONDS) - back_at)
    finally:
        outcomes = load.stop()
    ended = time.monotonic()

    queries = [outcome for outcome in outcomes if outcome.kind == "query"]
    fakes = [outcome for outcome in outcomes if outcome.kind == "fake"]
    failed_queries = [outcome for outcome in queries if outcome.failed()]
    failed_fakes = [outcome for outcome in fakes if outcome.failed()]
    fakes_in_flight = [outcome for outcome in fakes if outcome.in_flight_at(killed_at)]
    queries_in_flight = [outcome for outcome in queries if outcome.in_flight_at(killed_at)]
    logged = cluster.nginx.access_log()
    retried = [line for line in logged if line.uri.startswith("/query") and len(line.upstreams) > 1]
    killed_upstream = f"127.0.0.1:{killed.port}"
    served_after_restart = [
        line for line in logged if line.at >= back_wall and line.upstreams == (killed_upstream,)
    ]
    summary = (
        f"load {ended - began:.1f} s; kill at {killed_at - began:.1f} s, healthy again after"
        f" {back_at - killed_at:.1f} s; /query {len(queries)} sent, {len(failed_queries)} failed,"
        f" {len(queries_in_flight)} in flight at the kill, {len(retried)} retried by nginx;"
        f" /fake {len(fakes)} sent, {len(failed_fakes)} failed, {len(fakes_in_flight)} in flight"
        f" at the kill (failures ended at {_offsets(failed_fakes, killed_at)} s from the kill);"
        f" {len(served_after_restart)} answered by the restarted process"
    )
    print(summary)

    assert len(queries) >= 100, summary
    assert failed_queries == [], f"{summary}\n{failed_queries[:5]}\n{cluster.nginx.error_log()}"
    assert retried, summary  # the kill did hit lookups, and nginx moved them over
    assert served_after_restart, summary
    # /fake is never retried, so it may fail around the kill; only there, and only a few.
    assert all(killed_at <= outcome.ended <= back_at + 6 for outcome in failed_fakes), summary
    assert len(failed_fakes) <= len(fakes_in_flight) + 2, f"{summary}\n{failed_fakes}"
    assert not [
        line for line in logged if line.uri.startswith("/fake") and len(line.upstreams) > 1
    ], summary

    stored = _stored_orders(cluster.engine)
    answered = [order for outcome in fakes for order in outcome.created]
    assert (
        len({order["sno"] for order in answered})
        == len(answered)
        == FAKE_NUM * (len(fakes) - len(failed_fakes))
    )
    assert _half_written(stored) == []
    assert _missing(stored, answered) == []


# -- two schedulers ------------------------------------------------------------------------


def _report_versions(s3: S3Client, bucket: str) -> Counter[str]:
    listed = s3.list_object_versions(Bucket=bucket, Prefix="reports/")
    return Counter(version["Key"] for version in listed.get("Versions", []))


def _logs(cluster: Cluster) -> str:
    return "\n".join(
        f"--- {log.parent.name}\n{log.read_text(errors='replace')}"
        for log in cluster.scheduler_logs
    )


def test_two_schedulers_publish_one_json_and_one_csv_per_slot(cluster: Cluster) -> None:
    deadline = time.monotonic() + 60
    while sum(key.endswith(".json") for key in _report_versions(cluster.s3, cluster.bucket)) < 3:
        assert all(process.poll() is None for process in cluster.schedulers), _logs(cluster)
        assert time.monotonic() < deadline, _logs(cluster)
        time.sleep(0.2)
    codes = [stop_gracefully(process) for process in cluster.schedulers]

    assert codes == [0, 0], _logs(cluster)
    versions = _report_versions(cluster.s3, cluster.bucket)
    published = sorted(key.removesuffix(".json") for key in versions if key.endswith(".json"))
    # Had the test been slow, a fourth slot may have come: it too must be whole and single.
    assert published[:3] == [slot.key("json").removesuffix(".json") for slot in SLOTS]
    assert sorted(versions) == sorted(
        f"{stem}.{kind}" for stem in published for kind in ("csv", "json")
    )
    assert set(versions.values()) == {1}, versions
    text = _logs(cluster)
    assert text.count("published at reports/") == len(published), text
    assert text.count("scheduler stopped") == 2, text

    listing = cluster.nginx.request("GET", "/reports?date=2026-11-25", cluster.bearer)
    assert listing.status == 200, listing
    assert [item["slot"] for item in listing.json()["data"]["reports"]][:3] == [
        slot.name for slot in SLOTS
    ]


# -- shared Redis: the cache and the rate limiter ------------------------------------------


def test_a_body_cached_through_one_api_process_is_served_by_the_other(cluster: Cluster) -> None:
    first, second = cluster.apis
    sno = cluster.fake(1, via=first)[0]["sno"]
    key = cluster.prefix + tracking_key(sno)

    filled = first.get(f"/query?sno={sno}")
    assert filled.status == 200, filled
    assert cluster.redis.get(key) == (filled.header("ETag") or "").encode() + filled.body
    served = second.get(f"/query?sno={sno}")
    assert served.status == 200, served
    assert served.body == filled.body
    # The second process answers from Redis, not from its own reading of the database.
    planted = filled.body.replace(f'"sno":"{sno}"'.encode(), b'"sno":"424242"')
    cluster.redis.set(key, tagged(planted), keepttl=True)
    assert second.get(f"/query?sno={sno}").body == planted
    cluster.redis.delete(key)


def _in_flight_order(cluster: Cluster, via: ServiceProcess) -> tuple[int, list[Status]]:
    for order in cluster.fake(30, via=via):
        history = [Status(detail["tracking_status"]) for detail in order["details"]]
        if allowed_next(history) - {Status.EXCEPTION, Status.RETURNED_TO_SENDER}:
            return int(order["sno"]), history
    raise AssertionError("30 fake orders and none in flight")


def test_an_event_recorded_through_one_api_process_is_seen_by_the_other_at_once(
    cluster: Cluster,
) -> None:
    first, second = cluster.apis
    sno, history = _in_flight_order(cluster, first)
    before = second.get(f"/query?sno={sno}")  # now cached, in Redis
    assert before.json()["tracking_status"] == history[-1]
    status = min(allowed_next(history) - {Status.EXCEPTION, Status.RETURNED_TO_SENDER})

    recorded = first.request(
        "POST",
        f"/shipments/{sno}/events",
        headers={**cluster.bearer, "Content-Type": "application/json"},
        body=json.dumps({"status": status, "location_id": 3}).encode(),
    )

    assert recorded.status == 201, recorded
    seen = second.get(f"/query?sno={sno}")
    assert seen.json()["tracking_status"] == status
    assert seen.json()["details"][-1]["status"] == status
    assert seen.body == recorded.body
    assert cluster.nginx.request("GET", f"/query?sno={sno}").body == recorded.body


def _counted(cluster: Cluster, client: str) -> int:
    keys = list(cluster.redis.scan_iter(match=f"{cluster.prefix}rate:query:{client}:*"))
    return sum(int(value or 0) for value in cluster.redis.mget(keys)) if keys else 0


def test_the_rate_limiter_counts_the_client_nginx_saw_and_no_address_it_was_told(
    cluster: Cluster,
) -> None:
    sno = cluster.snos[0]
    path = f"/query?sno={sno}"

    def through_nginx(source: str, forwarded_for: str | None = None) -> Reply:
        headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
        return cluster.nginx.request("GET", path, headers, source=source)

    # Clients reach nginx from their own addresses; what they claim is not believed.
    replies = [
        through_nginx("127.0.0.2", "198.51.100.7"),
        through_nginx("127.0.0.2", "198.51.100.8"),
        through_nginx("127.0.0.3"),
    ]
    # A trusted proxy in front of nginx (127.0.0.1) passes on its clients' addresses.
    replies += [
        through_nginx(LOAD_CLIENT, "203.0.113.7"),
        through_nginx(LOAD_CLIENT, "203.0.113.8"),
    ]
    # Straight to an API process, bypassing nginx: the header is ignored.
    for api in cluster.apis:
        replies.append(
            send(api.port, "GET", path, {"X-Forwarded-For": "198.51.100.9"}, source="127.0.0.2")
        )

    assert [reply.status for reply in replies] == [200] * len(replies)
    assert _counted(cluster, "127.0.0.2") == 4
    assert _counted(cluster, "127.0.0.3") == 1
    assert _counted(cluster, "203.0.113.7") == 1
    assert _counted(cluster, "203.0.113.8") == 1
    for claimed in ("198.51.100.7", "198.51.100.8", "198.51.100.9"):
        assert _counted(cluster, claimed) == 0


def test_nginx_compresses_json(cluster: Cluster) -> None:
    # nginx leaves bodies under gzip_min_length (512 bytes) alone, and a new order
    # with one event is shorter: take the longest of the seeded ones.
    sizes = {
        sno: len(cluster.nginx.request("GET", f"/query?sno={sno}").body) for sno in cluster.snos
    }
    sno = max(sizes, key=sizes.__getitem__)
    assert sizes[sno] >= 512, sizes

    reply = cluster.nginx.request("GET", f"/query?sno={sno}", {"Accept-Encoding": "gzip"})

    assert reply.status == 200, reply
    assert reply.header("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(reply.body))["sno"] == str(sno)
    # The compressed answer's tag is weak; sent back as it came, it still matches.
    tag = reply.header("ETag") or ""
    assert tag.startswith('W/"'), tag
    headers = {"Accept-Encoding": "gzip", "If-None-Match": tag}
    again = cluster.nginx.request("GET", f"/query?sno={sno}", headers)
    assert again.status == 304, again
    assert again.body == b""
