"""The fast path for plain /query requests answers as Flask would, and every rule still holds."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from dependency_injector import providers
from flask import Flask
from werkzeug.test import TestResponse

from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.errors import StorageUnavailable
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.entrypoints.http.clients import environ_client
from logistic.services.tracking import View, missing_key, tracking_key
from logistic.settings import Settings
from tests.bodies import cached_body
from tests.contract import CheckedClient
from tests.unit.conftest import NOW
from tests.unit.flask_only import behind_request_meter
from tests.unit.scans import assert_error, bearer, key_with, shipment_with
from tests.unit.test_tracking_cache import Counting

HISTORY = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]


def _container(**env: str) -> Container:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})
    return memory_container(settings=settings, now=NOW)


class Paths:
    """One app, asked through the fast path (as served) or through Flask alone."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.app = create_app(container)
        self.flask_runs = 0

        @self.app.before_request
        def _count() -> None:
            self.flask_runs += 1

        self.served = CheckedClient(self.app)
        app: Flask = self.app
        self.flask_only = CheckedClient(behind_request_meter(app))

    def get(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        return self.served.get(path, headers=headers or {})

    def fast(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        """`path` served, and served without Flask."""
        before = self.flask_runs
        response = self.get(path, headers)
        assert self.flask_runs == before, f"{path} went through Flask"
        return response


@pytest.fixture
def paths() -> Paths:
    return Paths(_container(LOGISTIC_RATE_LIMIT="1000/minute"))


def _headers(response: TestResponse) -> list[tuple[str, str]]:
    """The headers, with the quota left shown as a number (each request uses one up) and
    the request's id as an id (each request has its own)."""
    return [
        (name, "<n>" if name == "X-RateLimit-Remaining" and value.isdigit() else value)
        if name != "X-Request-ID"
        else (name, "<id>")
        for name, value in response.headers.items()
    ]


def _same(left: TestResponse, right: TestResponse) -> None:
    assert left.status == right.status
    assert _headers(left) == _headers(right)
    assert left.data == right.data


def test_a_cached_body_skips_flask_with_the_same_status_headers_and_body(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    first = paths.fast(f"/query?sno={sno}")  # a miss: read from the database and cached
    assert first.status_code == 200

    hit = paths.fast(f"/query?sno={sno}")

    _same(hit, first)
    _same(hit, paths.flask_only.get(f"/query?sno={sno}"))
    assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
    assert cached_body(paths.container.cache().get(tracking_key(sno))) == hit.data


def test_a_miss_skips_flask_with_flasks_status_headers_and_body(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    expected = paths.flask_only.get(f"/query?sno={sno}")
    paths.container.cache().delete(tracking_key(sno))

    miss = paths.fast(f"/query?sno={sno}")

    _same(miss, expected)
    assert cached_body(paths.container.cache().get(tracking_key(sno))) == miss.data


def test_an_unknown_sno_gets_flasks_404_without_flask_and_is_remembered(paths: Paths) -> None:
    first = paths.fast("/query?sno=9000000")  # read from the database: unknown, remembered
    assert_error(first, 404)
    assert paths.container.cache().get(missing_key(9000000)) is not None

    unknown = paths.fast("/query?sno=9000000")

    _same(unknown, first)
    _same(unknown, paths.flask_only.get("/query?sno=9000000"))


def test_without_negative_caching_unknown_snos_are_looked_up_each_time() -> None:
    paths = Paths(_container(LOGISTIC_NEGATIVE_CACHE_TTL="0"))
    counting = Counting(paths.container.shipments())
    for name in ("shipments", "query_shipments"):
        getattr(paths.container, name).override(providers.Object(counting))
    paths.container.tracking.reset()

    assert_error(paths.fast("/query?sno=9000000"), 404)
    assert_error(paths.fast("/query?sno=9000000"), 404)

    assert counting.gets == 2
    assert paths.container.cache().get(missing_key(9000000)) is None


class _Failing:
    def __init__(self, error: Exception) -> None:
        self._error = error

    def get(self, sno: int) -> None:
        raise self._error

    def event_count(self, sno: int) -> None:
        raise self._error


@pytest.mark.parametrize(
    ("error", "code"),
    [(StorageUnavailable("database down"), 503), (RuntimeError("secret detail"), 500)],
)
def test_a_failed_miss_gets_flasks_json_error_without_flask_and_is_logged(
    paths: Paths, error: Exception, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    paths.container.tracking.reset()
    paths.container.shipments.override(providers.Object(_Failing(error)))

    with caplog.at_level(logging.ERROR):
        failed = paths.fast("/query?sno=42")

    assert_error(failed, code)
    assert b"secret" not in failed.data
    assert any(record.exc_info and record.exc_info[1] is error for record in caplog.records)
    _same(failed, paths.flask_only.get("/query?sno=42"))


class _BrokenKeys:
    def identify(self, key: str | None) -> None:
        raise RuntimeError("secret detail")


def test_an_unexpected_error_before_the_count_goes_to_flask_and_its_json_500(
    paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    paths.container.access.override(providers.Object(_BrokenKeys()))
    runs = paths.flask_runs

    with caplog.at_level(logging.ERROR):
        failed = paths.get("/query?sno=42")

    assert paths.flask_runs == runs + 1

    assert_error(failed, 500)
    assert b"secret" not in failed.data
    assert any(record.exc_info for record in caplog.records)
    _same(failed, paths.flask_only.get("/query?sno=42"))


class _BrokenCache:
    """A cache that fails as no back end should: a bug, not CacheUnavailable."""

    def get(self, key: str) -> bytes | None:
        raise RuntimeError("secret detail")


def _hits(paths: Paths) -> int:
    tally = paths.container.throttle().tally(environ_client({}, []))
    assert tally is not None
    return paths.container.rate_limiter().hit(tally.key, tally.window) - 1


def test_an_unexpected_error_after_the_count_is_answered_there_and_counted_once(
    paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    paths.container.cache.override(providers.Object(_BrokenCache()))

    with caplog.at_level(logging.ERROR):
        failed = paths.fast("/query?sno=42")

    assert_error(failed, 500)
    assert b"secret" not in failed.data
    assert any(record.exc_info for record in caplog.records)
    assert _hits(paths) == 1


@pytest.mark.parametrize("kind", ["miss", "hit", "unknown", "malformed", "bad key"])
def test_both_paths_count_a_request_once(kind: str) -> None:
    remaining = []
    for ask in ("served", "flask_only"):
        paths = Paths(_container(LOGISTIC_RATE_LIMIT="1000/minute"))
        sno = shipment_with(paths.container, HISTORY)
        if kind == "hit":
            paths.container.tracking().body(sno)  # cached, counting nothing
        query = {"unknown": "sno=9000000", "malformed": "sno=x1"}.get(kind, f"sno={sno}")
        headers = {"Authorization": "Bearer wrong"} if kind == "bad key" else {}
        answer = getattr(paths, ask).get(f"/query?{query}", headers=headers)
        remaining.append(answer.headers.get("X-RateLimit-Remaining"))
        assert _hits(paths) == 1, ask
    assert remaining[0] == remaining[1]


def test_a_key_with_pii_read_gets_the_full_body_and_others_the_masked_one(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    reader = bearer(key_with(paths.container, Scope.PII_READ))
    writer = bearer(key_with(paths.container, Scope.EVENTS_WRITE))
    full = paths.get(f"/query?sno={sno}", reader)
    masked = paths.get(f"/query?sno={sno}")
    assert full.data != masked.data

    _same(paths.fast(f"/query?sno={sno}", reader), full)
    _same(paths.fast(f"/query?sno={sno}", writer), masked)
    _same(paths.fast(f"/query?sno={sno}"), masked)
    assert cached_body(paths.container.cache().get(tracking_key(sno, View.FULL))) == full.data


def test_everyone_gets_the_full_body_under_pii_full() -> None:
    paths = Paths(_container(LOGISTIC_PII="full"))
    sno = shipment_with(paths.container, HISTORY)
    first = paths.get(f"/query?sno={sno}")
    _same(paths.fast(f"/query?sno={sno}"), first)
    assert first.data == cached_body(paths.container.cache().get(tracking_key(sno, View.FULL)))


@pytest.mark.parametrize(
    "header", ["Bearer lgk_not-a-key", "Basic dXNlcjpwYXNz", "Bearer", "Bearer   "]
)
def test_a_wrong_or_malformed_key_is_401_even_when_the_body_is_cached(
    paths: Paths, header: str
) -> None:
    key_with(paths.container, Scope.PII_READ)
    sno = shipment_with(paths.container, HISTORY)
    assert paths.get(f"/query?sno={sno}").status_code == 200

    refused = paths.get(f"/query?sno={sno}", {"Authorization": header})

    assert_error(refused, 401)
    _same(refused, paths.flask_only.get(f"/query?sno={sno}", headers={"Authorization": header}))


@pytest.mark.parametrize(
    "query",
    [
        "sno=0",
        "sno=9223372036854775808",
        "sno=99999999999999999999",
        "sno=12abc",
        "sno=",
        "",
        "sno=%EF%BC%91",
        "sno={sno}&sno={sno}",
    ],
)
def test_bad_input_is_answered_by_flask_as_before(paths: Paths, query: str) -> None:
    sno = shipment_with(paths.container, HISTORY)
    assert paths.get(f"/query?sno={sno}").status_code == 200
    path = "/query?" + query.format(sno=sno)

    response = paths.get(path)

    assert_error(response, 400)
    _same(response, paths.flask_only.get(path))


def test_cache_hits_and_misses_each_count_once_against_the_quota() -> None:
    paths = Paths(_container(LOGISTIC_RATE_LIMIT="4/minute"))
    sno = shipment_with(paths.container, HISTORY)
    paths.container.clock().set(NOW + timedelta(seconds=20))

    assert paths.fast(f"/query?sno={sno}").status_code == 200  # a miss
    assert paths.fast("/query?sno=9000000").status_code == 404  # an unknown sno
    assert paths.fast(f"/query?sno={sno}").status_code == 200
    assert paths.fast(f"/query?sno={sno}").status_code == 200

    refused = paths.fast(f"/query?sno={sno}")  # over the quota: answered here too

    assert_error(refused, 429)
    assert refused.headers["Retry-After"] == "40"
    assert refused.headers["X-RateLimit-Limit"] == "4"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # The test client sends no REMOTE_ADDR: the client as the app names it then.
    tally = paths.container.throttle().tally(environ_client({}, []))
    assert tally is not None
    # Counted once: four admitted, one refused, and this one.
    assert paths.container.rate_limiter().hit(tally.key, tally.window) == 6
    _same(refused, paths.flask_only.get(f"/query?sno={sno}"))
    paths.container.clock().advance(timedelta(seconds=40))
    assert paths.fast(f"/query?sno={sno}").status_code == 200


def test_other_methods_and_paths_go_to_flask(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    assert paths.get(f"/query?sno={sno}").status_code == 200
    runs = paths.flask_runs
    head = paths.served.head(f"/query?sno={sno}")
    assert head.status_code == 200
    assert head.data == b""
    assert_error(paths.served.put(f"/query?sno={sno}"), 405)
    assert_error(paths.get(f"/query/?sno={sno}"), 404)
    assert paths.flask_runs > runs


def test_every_counted_answer_tells_the_quota_left_on_both_paths() -> None:
    paths = Paths(_container(LOGISTIC_RATE_LIMIT="5/minute"))
    sno = shipment_with(paths.container, HISTORY)
    paths.container.clock().set(NOW + timedelta(seconds=15))
    answers = [
        paths.fast(f"/query?sno={sno}"),  # a miss
        paths.flask_only.get(f"/query?sno={sno}"),
        paths.fast(f"/query?sno={sno}"),  # a hit
        paths.fast("/query?sno=9000000"),  # unknown: 404
        paths.get("/query?sno=abc"),  # malformed: Flask's 400, counted
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 404, 400]
    for left, answer in enumerate(reversed(range(5))):
        assert answers[left].headers["X-RateLimit-Limit"] == "5"
        assert answers[left].headers["X-RateLimit-Remaining"] == str(answer)
        assert answers[left].headers["X-RateLimit-Reset"] == "45"
    refused = paths.fast(f"/query?sno={sno}")
    assert_error(refused, 429)
    assert refused.headers.getlist("X-RateLimit-Remaining") == ["0"]


def test_without_a_quota_no_answer_tells_one() -> None:
    paths = Paths(_container(LOGISTIC_RATE_LIMIT="off"))
    sno = shipment_with(paths.container, HISTORY)
    for answer in (paths.fast(f"/query?sno={sno}"), paths.flask_only.get(f"/query?sno={sno}")):
        assert answer.status_code == 200
        assert not [name for name, _ in answer.headers.items() if name.startswith("X-RateLimit")]
