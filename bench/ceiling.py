"""The ceiling: a WSGI app with no framework that does one Redis GET and returns the bytes.

    BENCH_REDIS_URL=redis://127.0.0.1:6379/9 BENCH_CEILING_KEY=bench:query:masked:1 \
        granian --interface wsgi --workers 2 bench.ceiling:app

It reads the body the service cached for the hit runs, so both send the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import redis

_client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
_key = os.environ.get("BENCH_CEILING_KEY", "bench:query:masked:1")


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = _client.get(_key) or b""
    start_response(
        "200 OK",
        [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
