"""The rate limit on /query per client address, and who that client is behind a proxy."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.container import Container, memory_container
from logistic.domain.errors import CacheUnavailable
from logistic.entrypoints.http import create_app
from logistic.entrypoints.http.clients import client_address
from logistic.ports.rate_limiter import Window
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.scans import assert_error

PROXY = "10.0.0.5"


def _container(**env: str) -> Container:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})
    return memory_container(settings=settings, now=NOW)


@pytest.fixture
def container() -> Container:
    return _container(LOGISTIC_RATE_LIMIT="3/minute", LOGISTIC_TRUSTED_PROXIES=PROXY)


def _query(
    client: FlaskClient, remote: str = "192.0.2.1", forwarded: str | None = None
) -> TestResponse:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return client.get("/query?sno=1", headers=headers, environ_base={"REMOTE_ADDR": remote})


def test_over_the_limit_is_429_with_retry_after_then_reset(
    client: FlaskClient, container: Container
) -> None:
    container.clock().set(NOW + timedelta(seconds=20))
    for _ in range(3):
        assert _query(client).status_code == 404  # counted, whatever the answer

    refused = _query(client)

    assert "rate limit" in assert_error(refused, 429)["error"]["message"]
    assert refused.headers["Retry-After"] == "40"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == "40"

    container.clock().advance(timedelta(seconds=39))
    assert _query(client).status_code == 429
    container.clock().advance(timedelta(seconds=1))
    assert _query(client).status_code == 404


def test_each_client_address_has_its_own_count(client: FlaskClient) -> None:
    for _ in range(3):
        _query(client, "192.0.2.1")
    assert _query(client, "192.0.2.1").status_code == 429
    assert _query(client, "192.0.2.2").status_code == 404
    assert _query(client, "2001:db8::1").status_code == 404


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(client: FlaskClient) -> None:
    for number in range(3):
        _query(client, "192.0.2.1", forwarded=f"198.51.100.{number}")
    assert _query(client, "192.0.2.1", forwarded="198.51.100.99").status_code == 429


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(client: FlaskClient) -> None:
    for _ in range(3):
        _query(client, PROXY, forwarded="198.51.100.7")
    assert _query(client, PROXY, forwarded="198.51.100.7").status_code == 429
    # What the client wrote itself (left of what our proxy appended) changes nothing.
    assert _query(client, PROXY, forwarded="203.0.113.1, 198.51.100.7").status_code == 429
    assert _query(client, PROXY, forwarded="198.51.100.8").status_code == 404
    assert _query(client, "192.0.2.1").status_code == 404


def test_the_limit_can_be_switched_off() -> None:
    client = create_app(_container(LOGISTIC_RATE_LIMIT="off")).test_client()
    assert all(_query(client).status_code == 404 for _ in range(200))


def test_the_default_is_120_a_minute() -> None:
    client = create_app(_container()).test_client()
    assert all(_query(client).status_code == 404 for _ in range(120))
    assert _query(client).status_code == 429


def test_a_failing_counter_lets_requests_through(container: Container) -> None:
    class Down:
        def hit(self, key: str, window: Window, amount: int = 1) -> int:
            raise CacheUnavailable("redis is down")

    container.throttle.reset()
    container.rate_limiter.override(providers.Object(Down()))
    client = create_app(container).test_client()
    assert all(_query(client).status_code == 404 for _ in range(10))


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("192.0.2.1", [], "192.0.2.1"),
        ("192.0.2.1", ["1.2.3.4"], "192.0.2.1"),
        ("10.1.1.1", [], "10.1.1.1"),
        ("10.1.1.1", ["1.2.3.4"], "1.2.3.4"),
        ("10.1.1.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),
        ("10.1.1.1", ["6.6.6.6", "1.2.3.4, 10.2.2.2"], "1.2.3.4"),
        ("10.1.1.1", ["1.2.3.4, 10.2.2.2, 10.3.3.3"], "1.2.3.4"),
        ("10.1.1.1", ["10.2.2.2"], "10.2.2.2"),
        ("10.1.1.1", ["not-an-address, 10.2.2.2"], "10.2.2.2"),
        ("10.1.1.1", ["garbage"], "10.1.1.1"),
        ("2001:db8::5", ["2001:db9::1"], "2001:db9::1"),
    ],
)
def test_client_address(remote: str, forwarded: list[str], client: str) -> None:
    assert client_address(remote, forwarded, PROXIES) == client
