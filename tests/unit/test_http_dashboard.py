"""GET /dashboard through the Flask app, every port in memory: the report's figures on the
page, an HTML page for every failure, and signing in and out with a key."""

from __future__ import annotations

import re
from html import unescape
from ipaddress import ip_network

from attrs import evolve
from dependency_injector import providers
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.adapters.memory import MemoryApiKeys
from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.entrypoints.http import create_app
from tests.unit.conftest import NOW
from tests.unit.scans import bearer, key_with
from tests.unit.test_dashboard import LATEST, put_report


def _html(response: TestResponse, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_data(as_text=True)


def _figure(page: str, name: str) -> str:
    found = re.search(rf'id="figure-{name}" data-value="([^"]*)">([^<]*)<', page)
    assert found is not None, name
    return f"{found.group(1)} {unescape(found.group(2))}"


def _bars(page: str, chart: str) -> list[tuple[str, str]]:
    svg = page.split(f'<svg id="{chart}"', 1)[1].split("</svg>", 1)[0]
    return [
        (unescape(label), value)
        for label, value in re.findall(r'data-label="([^"]*)" data-value="([^"]*)"', svg)
    ]


def test_the_latest_report_is_drawn_with_its_figures(
    client: FlaskClient, container: Container
) -> None:
    put_report(container, LATEST.previous(), total_orders=18, on_time_rate=0.5)
    put_report(container, LATEST)

    page = _html(client.get("/dashboard?lang=en"), 200)

    assert "<h1>Report of 2026-11-25 08:00</h1>" in page
    assert _figure(page, "total") == "20 20"
    assert _figure(page, "median") == "30.0 30.0 h"
    assert _figure(page, "p90") == "60.5 60.5 h"
    assert _figure(page, "on-time") == "0.9 90.0%"
    assert _figure(page, "stuck") == "1 1"
    assert _figure(page, "exceptions") == "0 0"
    assert _bars(page, "status-chart") == [
        ("Created", "3"), ("Package Received", "0"), ("In Transit", "5"),
        ("Out for Delivery", "0"), ("Delivery Attempted", "0"), ("Delivered", "12"),
        ("Returned to Sender", "0"), ("Exception", "0"),
    ]  # fmt: skip
    assert _bars(page, "location-chart") == [("臺北物流中心", "15"), ("新北物流中心", "5")]
    on_time = page.split('<svg id="on-time-chart"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'data-slot="([^"]*)" data-value="([^"]*)"', on_time) == [
        ("2026-11-25T0000", "50"), ("2026-11-25T0800", "90"),
    ]  # fmt: skip
    volume = page.split('<svg id="volume-chart"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'data-value="([^"]*)"', volume) == ["18", "20"]
    assert page.count("<tr") == 1 + 8 + 1 + 2 + 1 + 30
    assert 'href="/dashboard?slot=2026-11-25T0000"' in page
    assert 'href="/reports/2026-11-25T0800.csv"' in page
    assert 'class="switch" href="?slot=2026-11-25T0800&amp;lang=zh-Hant"' in page
    assert "sign-out" not in page  # nobody signs in while no key is configured


def test_the_page_speaks_chinese_by_default(client: FlaskClient, container: Container) -> None:
    put_report(container, LATEST)
    page = _html(client.get("/dashboard"), 200)
    assert '<html lang="zh-Hant">' in page
    assert "2026-11-25 08:00 報表" in page
    assert ("運送中", "5") in _bars(page, "status-chart")


def test_another_slot_is_shown_when_asked(client: FlaskClient, container: Container) -> None:
    put_report(container, LATEST)
    put_report(container, LATEST.previous(), total_orders=7)
    page = _html(client.get("/dashboard?slot=2026-11-25T00:00&lang=en"), 200)
    assert _figure(page, "total") == "7 7"
    assert 'href="/dashboard?slot=2026-11-25T0800"' in page


def test_bad_and_unknown_slots_get_a_page_that_says_what_to_do(
    client: FlaskClient, container: Container
) -> None:
    assert "No report was published in the last ten days" in _html(
        client.get("/dashboard?lang=en"), 404
    )
    put_report(container, LATEST)
    for asked in ("2026-11-25T0900", "yesterday", "2026-02-30T0800", "x" * 500, "<b>"):
        page = _html(client.get("/dashboard", query_string={"slot": asked, "lang": "en"}), 400)
        assert "is not a report slot: write it like 2026-11-25T0800" in page
        assert "<b>" not in page
    assert "given 2 times" not in _html(client.get("/dashboard?slot=a&slot=b"), 400)
    page = _html(client.get("/dashboard?slot=2026-11-24T1600&lang=en"), 404)
    assert "No report has been published for 2026-11-24 16:00." in page
    assert 'href="/dashboard"' in page


def test_with_keys_configured_the_page_asks_for_one(
    client: FlaskClient, container: Container
) -> None:
    put_report(container, LATEST)
    key_with(container, Scope.EVENTS_WRITE)
    response = client.get("/dashboard?lang=en")
    page = _html(response, 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="logistic"'
    assert 'action="/dashboard/sign-in"' in page
    assert 'type="password"' in page
    assert "data-slot" not in page


def test_a_wrong_key_or_one_without_the_scope_gets_the_form_again(
    client: FlaskClient, container: Container
) -> None:
    put_report(container, LATEST)
    other = key_with(container, Scope.EVENTS_WRITE)
    for typed, status, said in (
        ("lgk_wrong", 401, "That key is not valid"),
        ("  ", 401, "Type the API key."),
        (other, 403, "lacks reports:read"),
    ):
        page = _html(client.post("/dashboard/sign-in", data={"key": typed, "lang": "en"}), status)
        assert said in page
        assert 'aria-invalid="true"' in page
    assert client.get_cookie("logistic_session", path="/dashboard") is None


def test_a_key_is_asked_once_then_the_session_keeps_the_caller_in(
    client: FlaskClient, container: Container
) -> None:
    put_report(container, LATEST)
    key = key_with(container, Scope.REPORTS_READ)

    response = client.post(
        "/dashboard/sign-in", data={"key": key, "slot": "2026-11-25T0800", "lang": "en"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard?slot=2026-11-25T0800&lang=en"
    (cookie,) = [
        value
        for value in response.headers.getlist("Set-Cookie")
        if value.startswith("logistic_session=")
    ]
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/dashboard", "Expires="):
        assert attribute in cookie
    assert key not in cookie
    page = _html(client.get("/dashboard?lang=en"), 200)
    assert 'id="sign-out"' in page
    assert _figure(page, "total") == "20 20"


def test_signing_out_needs_the_page_token_then_asks_again(
    client: FlaskClient, container: Container
) -> None:
    put_report(container, LATEST)
    client.post("/dashboard/sign-in", data={"key": key_with(container, Scope.REPORTS_READ)})
    page = _html(client.get("/dashboard?lang=en"), 200)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None

    refused = client.post("/dashboard/sign-out", data={"token": "forged", "lang": "en"})
    assert "sign out again" in _html(refused, 403)
    foreign = client.post(
        "/dashboard/sign-out", data={"token": token.group(1)}, headers={"Origin": "https://evil"}
    )
    _html(foreign, 403)
    _html(client.get("/dashboard"), 200)

    done = client.post("/dashboard/sign-out", data={"token": token.group(1)})
    assert (done.status_code, done.headers["Location"]) == (303, "/dashboard")
    _html(client.get("/dashboard"), 401)


def test_a_removed_key_signs_its_holder_out(client: FlaskClient, container: Container) -> None:
    put_report(container, LATEST)
    client.post("/dashboard/sign-in", data={"key": key_with(container, Scope.REPORTS_READ)})
    _html(client.get("/dashboard"), 200)
    # The key file without that key: another key is all that is left.
    container.api_keys.override(providers.Object(MemoryApiKeys()))
    container.access.reset()
    _html(client.get("/dashboard"), 200)  # no key at all: open, as /reports is
    key_with(container, Scope.EVENTS_WRITE)
    _html(client.get("/dashboard"), 401)
    _html(client.get("/dashboard"), 401)


def test_a_bearer_key_works_as_on_reports(client: FlaskClient, container: Container) -> None:
    put_report(container, LATEST)
    key = key_with(container, Scope.REPORTS_READ)
    _html(client.get("/dashboard", headers=bearer(key)), 200)
    _html(client.get("/dashboard", headers=bearer("lgk_wrong")), 401)
    _html(client.get("/dashboard", headers={"Authorization": "Basic x"}), 401)
    other = key_with(container, Scope.PII_READ)
    _html(client.get("/dashboard", headers=bearer(other)), 403)


def test_signing_in_without_keys_configured_goes_to_the_page(client: FlaskClient) -> None:
    response = client.post("/dashboard/sign-in", data={"key": "anything"})
    assert (response.status_code, response.headers["Location"]) == (303, "/dashboard")
    assert client.get("/dashboard/sign-in?slot=2026-11-25T0800").headers["Location"] == (
        "/dashboard?slot=2026-11-25T0800"
    )


def test_a_form_too_large_is_a_page_too(client: FlaskClient) -> None:
    response = client.post("/dashboard/sign-in", data={"key": "k" * 20_000})
    assert "the form is limited to 16384 bytes" in _html(response, 413)


def test_the_cookie_is_secure_when_the_page_was_asked_for_over_tls(container: Container) -> None:
    settings = evolve(container.settings(), trusted_proxies=(ip_network("10.0.0.1/32"),))
    trusted = create_app(memory_container(settings, now=NOW)).test_client()
    key = key_with(container, Scope.REPORTS_READ)

    def cookie(client: FlaskClient, base_url: str = "http://localhost", **environ: str) -> str:
        response = client.post(
            "/dashboard/sign-in", data={"key": key}, base_url=base_url, environ_base=environ
        )
        (found,) = [
            value
            for value in response.headers.getlist("Set-Cookie")
            if value.startswith("logistic_session=")
        ]
        return found

    assert "Secure" not in cookie(client_of(container))
    assert "Secure" in cookie(client_of(container), "https://localhost")
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https"}
    assert "Secure" not in cookie(client_of(container), **forwarded)
    trusted_keys = trusted.application.extensions["logistic"]
    key = key_with(trusted_keys, Scope.REPORTS_READ)
    assert "Secure" in cookie(trusted, REMOTE_ADDR="10.0.0.1", **forwarded)
    assert "Secure" not in cookie(trusted, REMOTE_ADDR="10.0.0.2", **forwarded)


def client_of(container: Container) -> FlaskClient:
    return create_app(container).test_client()
