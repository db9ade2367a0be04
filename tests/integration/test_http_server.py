"""The HTTP API through a real server process (`logistic serve`), on both profiles."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from logistic.services.tracking import View, tracking_key
from tests.bodies import cached_body
from tests.integration.servers import RedisServer, Reply, ServiceProcess, private_redis
from tests.integration.servers import running_service as service_running

JSON = "application/json; charset=utf-8"
QUERY_KEYS = [
    "sno",
    "tracking_status",
    "estimated_delivery",
    "current_location",
    "details",
    "recipient",
]
DETAIL_KEYS = {"date", "id", "location_id", "location_title", "status", "timestamp"}
FOUR_HOURS_MS = 4 * 3600 * 1000
UNKNOWN_SNO = 9_000_000_000

PROFILES = [
    "embedded",
    pytest.param("mariadb+redis", marks=[pytest.mark.mariadb, pytest.mark.redis]),
]


def _mariadb_redis_env(request: pytest.FixtureRequest) -> dict[str, str]:
    return {
        "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
        "LOGISTIC_REDIS_URL": request.getfixturevalue("redis_url"),
        "LOGISTIC_REDIS_PREFIX": request.getfixturevalue("redis_prefix"),
    }


@pytest.fixture(params=PROFILES)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServiceProcess]:
    """The same code on each profile; "embedded" is the default with no configuration."""
    env = {} if request.param == "embedded" else _mariadb_redis_env(request)
    with service_running(env, tmp_path) as running:
        yield running


@pytest.fixture
def mariadb_redis_service(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ServiceProcess]:
    with service_running(_mariadb_redis_env(request), tmp_path) as running:
        yield running


def _fake(service: ServiceProcess, num: int) -> list[dict[str, Any]]:
    reply = service.get(f"/fake?num={num}")
    assert reply.status == 200, reply
    orders: list[dict[str, Any]] = reply.json()["data"]
    return orders


def _steady_headers(reply: Reply) -> list[tuple[str, str]]:
    """The headers but the date and the request's id, which each answer has its own."""
    return [
        (name, value)
        for name, value in reply.headers
        if name.lower() not in ("date", "x-request-id")
    ]


def _assert_error(reply: Reply, code: int) -> dict[str, Any]:
    assert reply.status == code, reply
    assert reply.content_type == JSON, reply
    body: dict[str, Any] = reply.json()
    assert body["status"] == "error"
    assert body["data"] is None
    assert body["error"]["code"] == code
    return body


def _assert_stored_whole(service: ServiceProcess, order: dict[str, Any]) -> None:
    """/query tells the same history as the /fake answer that created the order."""
    reply = service.get(f"/query?sno={order['sno']}")
    assert reply.status == 200, reply
    body = reply.json()
    assert body["sno"] == str(order["sno"])
    assert body["tracking_status"] == order["tracking_status"]["tracking_status"]
    assert [(d["status"], d["location_id"]) for d in body["details"]] == [
        (d["tracking_status"], d["location_id"]) for d in order["details"]
    ]


# -- the same contract on both profiles ---------------------------------------------------


def test_query_answers_the_original_shape_then_the_same_bytes(service: ServiceProcess) -> None:
    orders = _fake(service, 5)
    assert len(orders) == 5

    for order in orders:
        first = service.get(f"/query?sno={order['sno']}")
        assert first.status == 200, first
        assert first.content_type == JSON
        body = first.json()
        assert list(body) == QUERY_KEYS
        assert set(body["current_location"]) == {"address", "location_id", "title"}
        assert set(body["recipient"]) == {"address", "id", "name", "phone"}
        for detail in body["details"]:
            assert set(detail) == DETAIL_KEYS
            assert detail["timestamp"].endswith("+08:00")
            assert detail["timestamp"].startswith(detail["date"])
        assert len(body["estimated_delivery"]) == 10
        assert "物流中心".encode() in first.body
        assert b"\\u" not in first.body
        _assert_stored_whole(service, order)

        again = service.get(f"/query?sno={order['sno']}")
        assert again.status == first.status
        assert again.body == first.body
        assert _steady_headers(again) == _steady_headers(first)


def test_a_poller_holding_the_body_gets_a_304_with_its_validators(
    service: ServiceProcess,
) -> None:
    """On Redis the cache compares the tag itself and sends no body (a strong tag alone);
    any other form of If-None-Match is compared by the worker: every form gets the same."""
    sno = _fake(service, 1)[0]["sno"]
    first = service.get(f"/query?sno={sno}")
    tag = first.header("ETag")
    assert first.status == 200
    assert tag is not None
    assert len(tag) == 34

    for held in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        again = service.request("GET", f"/query?sno={sno}", {"If-None-Match": held})
        assert again.status == 304, (held, again)
        assert again.body == b""
        assert again.header("ETag") == tag
        assert again.header("Cache-Control") == "public, max-age=60"
        assert again.header("X-RateLimit-Limit") == first.header("X-RateLimit-Limit")

    other = service.request("GET", f"/query?sno={sno}", {"If-None-Match": '"' + "0" * 32 + '"'})
    assert other.status == 200
    assert other.body == first.body
    assert other.header("ETag") == tag


def test_errors_are_json_envelopes(service: ServiceProcess) -> None:
    unknown = _assert_error(service.get(f"/query?sno={UNKNOWN_SNO}"), 404)
    assert unknown["error"]["message"] == f"no shipment with sno {UNKNOWN_SNO}"
    assert "sno" in _assert_error(service.get("/query?sno=12abc"), 400)["error"]["message"]
    assert "sno" in _assert_error(service.get("/query"), 400)["error"]["message"]
    _assert_error(service.get("/nowhere"), 404)

    wrong_method = service.request("PUT", "/query?sno=1", body=b"{}")
    _assert_error(wrong_method, 405)
    assert "GET" in (wrong_method.header("Allow") or "")


def test_health_readiness_and_the_cap_on_fake(service: ServiceProcess) -> None:
    assert service.get("/healthz").json() == {"status": "ok"}
    ready = service.get("/readyz")
    assert ready.status == 200, ready
    assert ready.json()["status"] == "ok"
    assert len(_fake(service, 150)) == 100


NASTY_PATHS = [
    "/query?sno=99999999999999999999",
    "/query?sno=9223372036854775808",
    "/query?sno=9223372036854775807",
    "/query?sno=" + "9" * 8000,
    "/query?sno=" + "9" * 10_240,
    "/query?sno=1&pad=" + "x" * 100_000,
    "/query?sno=1&pad=" + "x" * 8000,
    "/query?sno=%EF%BC%91",  # full-width one
    "/query?sno=%D9%A1",  # Arabic-Indic one
    "/query?sno=%C2%B2",  # superscript two
    "/query?sno=%E4%B8%80",  # 一
    "/query?sno=%00",
    "/query?sno=1%00",
    "/query?sno=%FF%FE",  # not UTF-8
    "/query?sno=%25",
    "/query?sno=+1",
    "/query?sno=1;2",
    "/query?sno=0x10",
    "/query?sno=1e3",
    "/query?sno=",
    "/query?sno",
    "/query?sno[]=1",
    "/query?sno=1&sno=1",
    "/query?" + "&".join(["sno=1"] * 500),
    "/query/?sno=1",
    "//query?sno=1",
    "/query%3Fsno=1",
    "/%00",
    "/%E4%B8%AD",
    "/../../etc/passwd",
    # "/" is the tracking pages' search page (tests/integration/test_tracking_page_browser.py).
    "/index.html",
    "/fake?num=0",
    "/fake?num=-1",
    "/fake?num=1.5",
    "/fake?num=%EF%BC%91",
    "/fake?num=" + "9" * 20,
    "/fake?num=1&num=1",
    "/fake?num=",
]
# granian (its HTTP is hyper's) answers a longer request target itself: 414 with no body.
SERVER_URI_LIMIT = 65_534
NASTY_METHODS = [
    ("PUT", "/query?sno=1"),
    ("DELETE", "/query?sno=1"),
    ("PATCH", "/fake"),
    ("POST", "/fake?num=1"),
    ("DELETE", "/healthz"),
    ("PUT", "/nowhere"),
]
# Valid routes: HEAD and OPTIONS answer 200 with no body.
BODILESS = [
    ("HEAD", "/healthz"),
    ("HEAD", "/readyz"),
    ("OPTIONS", "/query"),
    ("OPTIONS", "/fake"),
    ("OPTIONS", "/healthz"),
]


def test_no_input_yields_a_500_or_html(service: ServiceProcess) -> None:
    problems: list[str] = []
    sent = [("GET", path) for path in NASTY_PATHS] + NASTY_METHODS
    for method, path in sent:
        reply = service.request(method, path, body=b"x" * 100 if method != "GET" else None)
        if len(path) > SERVER_URI_LIMIT:
            if reply.status != 414 or reply.body:
                problems.append(f"{method} {path[:60]}: {reply.status} {reply.body[:60]!r}")
            continue
        if not 400 <= reply.status < 500 or reply.content_type != JSON:
            problems.append(f"{method} {path[:60]}: {reply.status} {reply.content_type}")
            continue
        if reply.json()["error"]["code"] != reply.status:
            problems.append(f"{method} {path[:60]}: envelope says {reply.body[:100]!r}")
    for method, path in [*BODILESS, ("HEAD", f"/query?sno={UNKNOWN_SNO}")]:
        reply = service.request(method, path)
        if reply.status >= 500 or "html" in reply.content_type:
            problems.append(f"{method} {path}: {reply.status} {reply.content_type}")
        elif method == "OPTIONS" and (
            reply.status != 200 or "GET" not in (reply.header("Allow") or "")
        ):
            problems.append(f"{method} {path}: {reply.status} Allow={reply.header('Allow')}")
    assert problems == [], "\n".join(problems) + "\n" + service.log()[-2000:]


# -- MariaDB and Redis ---------------------------------------------------------------------


@pytest.mark.mariadb
@pytest.mark.redis
def test_the_cached_body_is_in_redis_under_the_prefix(
    mariadb_redis_service: ServiceProcess, redis_url: str, redis_prefix: str
) -> None:
    order = _fake(mariadb_redis_service, 1)[0]
    sno = order["sno"]
    reply = mariadb_redis_service.get(f"/query?sno={sno}")
    assert reply.status == 200, reply
    # Delivered and returned parcels change no more: their bodies are kept a day.
    terminal = order["tracking_status"]["tracking_status"] in ("Delivered", "Returned to Sender")
    ttl_ms = 24 * 3600 * 1000 if terminal else FOUR_HOURS_MS

    client = redis.Redis.from_url(redis_url)
    try:
        # Anonymous callers get the masked body; pii:read callers have their own key.
        key = redis_prefix + tracking_key(sno)
        assert client.get(key) == (reply.header("ETag") or "").encode() + reply.body
        assert 0.975 * ttl_ms < client.pttl(key) <= ttl_ms
        assert client.get(redis_prefix + tracking_key(sno, View.FULL)) is None
    finally:
        client.close()


@pytest.mark.mariadb
@pytest.mark.redis
def test_fake_calls_in_parallel_never_share_a_sno(mariadb_redis_service: ServiceProcess) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        calls = [pool.submit(_fake, mariadb_redis_service, 20) for _ in range(8 * 5)]
        orders = [order for call in calls for order in call.result()]
        snos = [order["sno"] for order in orders]
        assert len(snos) == 8 * 5 * 20
        assert len(set(snos)) == len(snos)
        # list() re-raises the first failed check here.
        list(pool.map(lambda order: _assert_stored_whole(mariadb_redis_service, order), orders))


def _timed_get(service: ServiceProcess, path: str) -> tuple[Reply, float]:
    started = time.monotonic()
    reply = service.get(path)
    return reply, time.monotonic() - started


def _eventually(check: Callable[[], object], seconds: float = 10.0) -> object:
    """`check()`'s first truthy result; Redis clients reconnect on their next command."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


@pytest.mark.mariadb
def test_redis_stopped_mid_test_answers_from_the_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with private_redis(tmp_path) as cache_server:
        env = {
            "LOGISTIC_DATABASE_URL": request.getfixturevalue("fresh_mariadb_url"),
            "LOGISTIC_REDIS_URL": cache_server.url,
        }
        with service_running(env, tmp_path) as service:
            _check_redis_outage(service, cache_server)


def _cached_in(cache_server: RedisServer, sno: int) -> bytes | None:
    client = cache_server.client()
    try:
        value = client.get(f"logistic:{tracking_key(sno)}")
        return cached_body(value) if isinstance(value, bytes) else None
    finally:
        client.close()


def _check_redis_outage(service: ServiceProcess, cache_server: RedisServer) -> None:
    cached, uncached, later = (order["sno"] for order in _fake(service, 3))
    first = service.get(f"/query?sno={cached}")
    assert first.status == 200, first
    assert _cached_in(cache_server, cached) == first.body

    cache_server.stop()

    for sno in (cached, uncached, cached, uncached):
        reply, seconds = _timed_get(service, f"/query?sno={sno}")
        assert reply.status == 200, reply
        assert reply.json()["sno"] == str(sno)
        assert seconds < 1.0, f"/query?sno={sno} took {seconds:.2f} s with Redis down"
    assert service.get(f"/query?sno={cached}").body == first.body
    not_ready, seconds = _timed_get(service, "/readyz")
    assert not_ready.status == 503, not_ready
    assert seconds < 1.0
    assert not_ready.content_type == JSON
    checks = not_ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["cache"].startswith("unavailable")

    cache_server.start()

    assert _eventually(lambda: service.get("/readyz").status == 200), service.get("/readyz")
    assert _eventually(
        lambda: service.get(f"/query?sno={later}").status == 200 and _cached_in(cache_server, later)
    ), f"sno {later} never cached after Redis came back"
