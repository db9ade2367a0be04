"""GET /metrics: what is counted (the fast path too), who may read it, and request ids."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.scans import DESTINATION, bearer, key_with, post_event, shipment_with
from tests.unit.test_http_ingest import item, post

OUTSIDER = "192.0.2.1"
PROXY = "10.0.0.5"


def _client(**env: str) -> tuple[FlaskClient, Container]:
    settings = Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})
    container = memory_container(settings=settings, now=NOW)
    return create_app(container).test_client(), container


def _samples(client: FlaskClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = client.get("/metrics")
    assert reply.status_code == 200, reply.data
    assert reply.content_type == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.get_data(as_text=True))
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_and_status_class_with_their_latency() -> None:
    client, container = _client()
    sno = shipment_with(container, [Status.CREATED])
    for _ in range(3):
        assert client.get(f"/query?sno={sno}").status_code == 200  # the fast path
    assert client.get("/query?sno=abc").status_code == 400  # Flask
    assert client.get("/nowhere").status_code == 404

    samples = _samples(client)

    requests = "logistic_http_requests_total"
    assert _value(samples, requests, route="/query", status="2xx") == 3
    assert _value(samples, requests, route="/query", status="4xx") == 1
    assert _value(samples, requests, route="unmatched", status="4xx") == 1
    latency = "logistic_http_request_duration_seconds_count"
    assert _value(samples, latency, route="/query") == 4
    bucket = "logistic_http_request_duration_seconds_bucket"
    assert _value(samples, bucket, route="/query", le="+Inf") == 4
    assert _value(samples, "logistic_cache_lookups_total", outcome="miss") == 1
    assert _value(samples, "logistic_cache_lookups_total", outcome="hit") == 2


def test_the_tracking_page_fast_path_is_counted_under_the_pages_route() -> None:
    client, container = _client()
    sno = shipment_with(container, [Status.CREATED])
    assert client.get(f"/track/{sno}").status_code == 200

    samples = _samples(client)

    page = "/track/<typed:raw>"
    assert _value(samples, "logistic_http_requests_total", route=page, status="2xx") == 1


def test_rate_limited_events_fake_orders_and_reports_are_counted() -> None:
    client, container = _client(LOGISTIC_RATE_LIMIT="1/minute", LOGISTIC_FAKE_API="on")
    sno = shipment_with(container, [Status.CREATED])
    assert client.get(f"/query?sno={sno}").status_code == 200
    assert client.get(f"/query?sno={sno}").status_code == 429
    assert client.get("/fake?num=3").status_code == 200
    key = key_with(container, Scope.EVENTS_WRITE)
    scan = {"status": "Package Received", "location_id": DESTINATION}
    assert post_event(client, sno, scan, key).status_code == 201
    slot = ReportSlot(date(2026, 11, 25), 8, container.reports().zone)
    container.reports().publish(slot)
    container.reports().publish(slot)

    samples = _samples(client)

    assert _value(samples, "logistic_rate_limited_requests_total", route="/query") == 1
    assert _value(samples, "logistic_fake_orders_total") == 3
    assert _value(samples, "logistic_events_recorded_total", status="Package Received") == 1
    assert _value(samples, "logistic_report_runs_total", outcome="published") == 1
    assert _value(samples, "logistic_report_runs_total", outcome="already_published") == 1
    assert _value(samples, "logistic_report_run_duration_seconds_count") == 1
    published = "logistic_report_last_published_slot_timestamp_seconds"
    assert _value(samples, published) == slot.starts_at_utc.timestamp()


def test_with_metrics_off_nothing_is_counted_but_every_family_is_shown() -> None:
    client, container = _client(LOGISTIC_METRICS="off")
    sno = shipment_with(container, [Status.CREATED])
    client.get(f"/query?sno={sno}")

    reply = client.get("/metrics").get_data(as_text=True)

    assert "# TYPE logistic_http_requests_total counter" in reply
    assert "# TYPE logistic_webhook_oldest_undelivered_age_seconds gauge" in reply
    assert "logistic_http_requests_total{" not in reply


def test_loopback_reads_the_metrics_without_a_key_others_need_metrics_read() -> None:
    client, container = _client()
    outside = {"REMOTE_ADDR": OUTSIDER}
    reader = key_with(container, Scope.METRICS_READ)
    other = key_with(container, Scope.REPORTS_READ)

    assert client.get("/metrics").status_code == 200
    refused = client.get("/metrics", environ_base=outside)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="logistic"'
    assert client.get("/metrics", environ_base=outside, headers=bearer(other)).status_code == 403
    assert client.get("/metrics", environ_base=outside, headers=bearer(reader)).status_code == 200


def test_the_metrics_networks_are_configurable_and_seen_through_a_trusted_proxy() -> None:
    client, _ = _client(LOGISTIC_METRICS_FROM="192.0.2.0/24", LOGISTIC_TRUSTED_PROXIES=PROXY)

    assert client.get("/metrics", environ_base={"REMOTE_ADDR": OUTSIDER}).status_code == 200
    assert client.get("/metrics").status_code == 401  # loopback is no longer listed
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    through = client.get("/metrics", environ_base={"REMOTE_ADDR": PROXY}, headers=forwarded)
    assert through.status_code == 401
    forwarded = {"X-Forwarded-For": OUTSIDER}
    through = client.get("/metrics", environ_base={"REMOTE_ADDR": PROXY}, headers=forwarded)
    assert through.status_code == 200


def test_a_valid_request_id_is_echoed_and_any_other_replaced() -> None:
    client, container = _client()
    sno = shipment_with(container, [Status.CREATED])
    client.get(f"/query?sno={sno}")

    for path in (f"/query?sno={sno}", "/query?sno=abc", "/healthz", "/nowhere"):
        given = client.get(path, headers={"X-Request-ID": "order-7f3a:retry.2"})
        assert given.headers["X-Request-ID"] == "order-7f3a:retry.2", path
        made = client.get(path, headers={"X-Request-ID": "no spaces <allowed>"})
        assert len(made.headers["X-Request-ID"]) == 32, path
        assert made.headers["X-Request-ID"] != client.get(path).headers["X-Request-ID"]


def test_events_of_a_batch_are_counted_by_status_when_applied() -> None:
    client, container = _client()
    sno = shipment_with(container, [Status.CREATED])
    key = key_with(container, Scope.EVENTS_WRITE)
    body = {
        "events": [
            item(sno, Status.PACKAGE_RECEIVED, 5),
            item(sno, Status.DELIVERED, 10),  # refused: not after Package Received
        ]
    }
    assert post(client, body, key).get_json()["data"]["summary"]["applied"] == 1

    samples = _samples(client)

    events = "logistic_events_recorded_total"
    assert _value(samples, events, status="Package Received") == 1
    assert _value(samples, events, status="Delivered") == 0
