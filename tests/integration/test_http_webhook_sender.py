"""The urllib3 sender against a real endpoint: what it keeps of an answer, its kept
connections, and its timeout (the port's contract is test_webhook_sender_contract.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from logistic.adapters.http_webhook_sender import HttpWebhookSender
from logistic.domain.webhook import ANSWER_EXCERPT

LONG = ("名" * 3000).encode()  # 9,000 bytes of three-byte characters


class _Endpoint(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps connections, as real endpoints do
    connections: ClassVar[set[int]] = set()  # the client ports seen, reset per test

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.connections.add(self.client_address[1])
        if self.path == "/slow":
            time.sleep(1.5)
        answer = LONG if self.path == "/long" else b"ok"
        self.send_response(200)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Endpoint.connections = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _sender(timeout_s: float = 5.0) -> HttpWebhookSender:
    return HttpWebhookSender(lambda: datetime.now(UTC), timeout_s=timeout_s)


def test_posts_to_one_endpoint_share_a_kept_connection(endpoint: str) -> None:
    sender = _sender()

    answers = [sender.post(endpoint + "/in", {}, b"{}") for _ in range(5)]

    assert [a.status_code for a in answers] == [200] * 5
    assert [a.answer for a in answers] == ["ok"] * 5
    assert len(_Endpoint.connections) == 1
    sender.close()


def test_a_long_answer_is_cut_and_the_next_post_is_answered_whole(endpoint: str) -> None:
    sender = _sender()

    long = sender.post(endpoint + "/long", {}, b"{}")
    after = sender.post(endpoint + "/in", {}, b"{}")

    assert long.status_code == 200
    # The first ANSWER_EXCERPT bytes, less the character they cut in two.
    assert long.answer == LONG.decode()[: ANSWER_EXCERPT // 3]
    # The unread rest went with its connection: the next post is not confused by it.
    assert (after.status_code, after.answer) == (200, "ok")
    sender.close()


def test_an_endpoint_slower_than_the_timeout_is_an_attempt_timed_out(endpoint: str) -> None:
    sender = _sender(timeout_s=0.5)

    started = time.monotonic()
    attempt = sender.post(endpoint + "/slow", {}, b"{}")

    assert time.monotonic() - started < 1.4
    assert (attempt.status_code, attempt.answer) == (None, "timed out")
    assert not attempt.succeeded
    sender.close()
