"""A webhook endpoint on 127.0.0.1 for the tests: it verifies every signature with the
`standardwebhooks` package, as an integrator would, and records what it got.

Its behaviour can be switched while it runs: answer 2xx, answer a status, hold the
connection past the sender's timeout, or not listen at all (connections refused).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from attrs import define, field
from standardwebhooks import Webhook, WebhookVerificationError

from tests.services import free_port


@define
class Received:
    webhook_id: str
    body: dict[str, Any]
    answered: int
    verified: bool
    signatures: int
    at: float
    headers: dict[str, str]
    raw: bytes


@define
class Receiver:
    port: int = field(factory=free_port)
    secrets: list[str] = field(factory=list)
    answer: int = 200
    hold_s: float = 0.0
    received: list[Received] = field(factory=list)
    # A webhook-id arriving while an attempt of the same id is still being answered.
    overlaps: list[str] = field(factory=list)
    _in_flight: set[str] = field(factory=set)
    _lock: threading.Lock = field(factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening: from now on, connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length", "0"))
        body = request.rfile.read(length)
        if len(body) < length:
            return  # the sender died mid-request (a killed dispatcher): nothing arrived
        headers = {name.lower(): value for name, value in request.headers.items()}
        webhook_id = headers.get("webhook-id", "")
        with self._lock:
            if webhook_id in self._in_flight:
                self.overlaps.append(webhook_id)
            self._in_flight.add(webhook_id)
            answer, hold = self.answer, self.hold_s
        # A path ending in a status code (/hooks/503) is answered with it.
        last = request.path.rsplit("/", 1)[-1]
        if last.isdigit():
            answer = int(last)
        try:
            verified = any(self._verifies(secret, body, headers) for secret in self.secrets)
            if hold:
                time.sleep(hold)
            with self._lock:
                self.received.append(
                    Received(
                        webhook_id,
                        json.loads(body) if body else {},
                        answer,
                        verified,
                        len(headers.get("webhook-signature", "").split()),
                        time.monotonic(),
                        headers,
                        body,
                    )
                )
            try:
                request.send_response(answer)
                request.send_header("location", "http://127.0.0.1:9/elsewhere")
                request.send_header("content-length", "2")
                request.end_headers()
                request.wfile.write(b"ok")
            except OSError:
                pass  # the sender gave up (timed out) first
        finally:
            with self._lock:
                self._in_flight.discard(webhook_id)

    @staticmethod
    def _verifies(secret: str, body: bytes, headers: dict[str, str]) -> bool:
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def delivered(self) -> list[Received]:
        """The attempts answered with a 2xx, in arrival order."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, ids: int, timeout_s: float) -> list[Received]:
        """Wait until `ids` distinct webhook-ids were delivered; the deliveries then."""
        deadline = time.monotonic() + timeout_s
        while True:
            done = self.delivered()
            if len({r.webhook_id for r in done}) >= ids or time.monotonic() > deadline:
                return done
            time.sleep(0.05)


@contextmanager
def receiving(**options: Any) -> Iterator[Receiver]:
    receiver = Receiver(**options)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
