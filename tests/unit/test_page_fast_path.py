"""A plain GET /track/<digits> is answered in front of Flask, with Flask's bytes and headers."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from logistic.container import Container, memory_container
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.services.tracking import page_key
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.flask_only import behind_request_meter
from tests.unit.scans import shipment_with

HISTORY = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]


class Paths:
    """One app, asked as served (the fast path first) or through Flask alone."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.app = create_app(container)
        self.flask_runs = 0

        @self.app.before_request
        def count() -> None:
            self.flask_runs += 1

        # Cookies as each request sends them: the clients keep none of their own.
        self.served = Client(self.app, use_cookies=False)
        app: Flask = self.app
        self.flask_only = Client(behind_request_meter(app), use_cookies=False)

    def fast(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        before = self.flask_runs
        response = self.served.get(path, headers=headers or {})
        assert self.flask_runs == before, f"{path} went through Flask"
        return response

    def through_flask(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        before = self.flask_runs
        response = self.served.get(path, headers=headers or {})
        assert self.flask_runs == before + 1, f"{path} did not go through Flask"
        return response


@pytest.fixture
def paths() -> Paths:
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_RATE_LIMIT": "1000/minute"}
    )
    return Paths(memory_container(settings=settings, now=NOW))


def _same(left: TestResponse, right: TestResponse) -> None:
    def headers(response: TestResponse) -> set[tuple[str, str]]:
        return {
            (name, "<n>" if name in ("X-RateLimit-Remaining", "X-Request-ID") else value)
            for name, value in response.headers.items()
        }

    assert left.status == right.status
    assert headers(left) == headers(right)
    assert left.data == right.data


def test_a_page_miss_and_hit_skip_flask_with_flasks_bytes(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    expected = paths.flask_only.get(f"/track/{sno}")
    paths.container.cache().delete(page_key(sno, "zh-Hant"))

    miss = paths.fast(f"/track/{sno}")
    hit = paths.fast(f"/track/{sno}")

    _same(miss, expected)
    _same(hit, expected)
    assert paths.container.cache().get(page_key(sno, "zh-Hant")) == hit.data


@pytest.mark.parametrize(
    "headers",
    [
        {"Accept-Language": "en-US,en;q=0.9"},
        {"Cookie": "lang=en"},
        {"Cookie": "lang=en", "Accept-Language": "zh-TW"},
        {"Cookie": "theme=dark; lang=zh-Hant", "Accept-Language": "en"},
        {"Cookie": "lang=nonsense", "Accept-Language": "en"},
    ],
)
def test_the_language_is_read_as_flask_reads_it(paths: Paths, headers: dict[str, str]) -> None:
    sno = shipment_with(paths.container, HISTORY)
    _same(
        paths.fast(f"/track/{sno}", headers), paths.flask_only.get(f"/track/{sno}", headers=headers)
    )


def test_an_unknown_number_gets_the_same_404_page_without_flask(paths: Paths) -> None:
    _same(paths.fast("/track/9000000"), paths.flask_only.get("/track/9000000"))


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/track/3?lang=en", {}),
        ("/track/12abc", {}),
        ("/track/3", {"Cookie": 'lang="en"'}),
        ("/track/3", {"Cookie": "lang=en; lang=zh-Hant"}),
        ("/track/99999999999999999999", {}),
    ],
)
def test_anything_but_a_plain_page_is_left_to_flask(
    paths: Paths, path: str, headers: dict[str, str]
) -> None:
    shipment_with(paths.container, HISTORY)
    paths.through_flask(path, headers)


def test_the_json_fast_path_is_untouched(paths: Paths) -> None:
    sno = shipment_with(paths.container, HISTORY)
    paths.fast(f"/query?sno={sno}")
    assert paths.fast(f"/query?sno={sno}").content_type == "application/json; charset=utf-8"
