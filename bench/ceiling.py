"""The ceiling: a WSGI app with no framework that does one Redis GET and returns the bytes.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 BENCH_CEILING_KEY=bench:query:tagged:masked:1 \
        granian --interface wsgi --workers 2 bench.ceiling:app

It reads the body the service cached for the hit runs (after its entity tag, which it
leaves out), so both send the same bytes.
`direct_app` is the same app with the GET sent on a connection each thread keeps,
past redis-py's command layer and pool checkout, as the service's hit path sends
its script (logistic.adapters.redis_cache.DirectCommands): a stricter ceiling.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import redis

from logistic.services.etag import TAG_LENGTH

_client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
_key = os.environ.get("BENCH_CEILING_KEY", "bench:query:tagged:masked:1")
_kept = threading.local()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = (_client.get(_key) or b"")[TAG_LENGTH:]
    start_response(
        "200 OK",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def direct_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    connection = getattr(_kept, "connection", None)
    if connection is None:
        connection = _kept.connection = _client.connection_pool.get_connection()
    connection.send_command("GET", _key)
    body = (connection.read_response() or b"")[TAG_LENGTH:]
    start_response(
        "200 OK",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
