"""One contract for the WebhookSender port: in memory, and urllib3 against a real receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from attrs import frozen

from logistic.adapters.http_webhook_sender import HttpWebhookSender
from logistic.adapters.memory_webhooks import MemoryWebhookSender
from logistic.ports.webhook_sender import WebhookSender
from tests.integration.webhook_receiver import receiving
from tests.services import free_port

BODY = '{"type":"webhook.test","data":{"名":"李"}}'.encode()
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}


@frozen
class Endpoint:
    sender: WebhookSender
    url: str
    # What reached the endpoint: (headers, body) of each post.
    received: Callable[[], list[tuple[dict[str, str], bytes]]]


def _clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(params=["memory", "urllib3"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    if request.param == "memory":

        def answer(url: str) -> int | None:
            last = url.rsplit("/", 1)[-1]
            return int(last) if last.isdigit() else (None if "refused" in url else 200)

        memory = MemoryWebhookSender(_clock, answer)
        yield Endpoint(
            memory,
            "https://hooks.example.com/in",
            lambda: [(headers, body) for _, headers, body in memory.sent],
        )
        return
    sender = HttpWebhookSender(_clock, timeout_s=1.0)
    with receiving(secrets=[]) as receiver:
        yield Endpoint(
            sender,
            receiver.url,
            lambda: [(r.headers, r.raw) for r in receiver.received],
        )
    sender.close()


def _refused_url(endpoint: Endpoint) -> str:
    if isinstance(endpoint.sender, MemoryWebhookSender):
        return "https://refused.example.com/"
    return f"http://127.0.0.1:{free_port()}/in"


def test_a_2xx_is_an_attempt_with_its_code_and_answer(endpoint: Endpoint) -> None:
    attempt = endpoint.sender.post(endpoint.url + "/204", HEADERS, BODY)

    assert attempt.status_code == 204
    assert attempt.succeeded
    assert attempt.latency_ms >= 0
    ((headers, body),) = endpoint.received()
    assert body == BODY
    assert headers["webhook-id"] == "msg_1"


def test_an_error_status_and_a_redirect_are_answers_not_followed(endpoint: Endpoint) -> None:
    assert endpoint.sender.post(endpoint.url + "/500", HEADERS, BODY).status_code == 500
    redirected = endpoint.sender.post(endpoint.url + "/302", HEADERS, BODY)
    assert redirected.status_code == 302
    assert not redirected.succeeded
    assert len(endpoint.received()) == 2


def test_a_refused_connection_is_an_attempt_without_code(endpoint: Endpoint) -> None:
    attempt = endpoint.sender.post(_refused_url(endpoint), HEADERS, BODY)

    assert attempt.status_code is None
    assert attempt.answer
    assert not attempt.succeeded
