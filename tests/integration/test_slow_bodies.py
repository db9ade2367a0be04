"""Slow request bodies behind the shipped nginx: they wait in nginx, not in the API's threads.

Sixteen connections send the headers of an authorised POST and a few bytes of its body,
then nothing: nginx buffers request bodies (proxy_request_buffering) and gives up on them
after client_body_timeout, so every API thread stays free and /healthz answers.
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack
from pathlib import Path

from tests.integration.nginx import running_nginx, send
from tests.integration.servers import create_key, running_service

SLOW_CLIENTS = 16


def test_slow_bodies_behind_nginx_hold_no_api_thread(tmp_path: Path) -> None:
    with ExitStack() as stack:
        env = {"LOGISTIC_THREADS": "2"}
        first = stack.enter_context(running_service(env, tmp_path))
        second = stack.enter_context(running_service(env, tmp_path))
        key = create_key(first, "events:write")
        nginx = stack.enter_context(running_nginx(tmp_path / "nginx", [first.port, second.port]))
        head = (
            f"POST /shipments/1/events HTTP/1.1\r\nHost: logistic\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n"
        ).encode()
        for _ in range(SLOW_CLIENTS):
            slow = stack.enter_context(socket.create_connection(("127.0.0.1", nginx.port)))
            slow.sendall(head + b'{"st')
        started = time.monotonic()
        while time.monotonic() - started < 3:
            asked = time.monotonic()
            reply = send(nginx.port, "GET", "/healthz", timeout=2)
            assert reply.status == 200, reply
            assert time.monotonic() - asked < 1
            time.sleep(0.1)
