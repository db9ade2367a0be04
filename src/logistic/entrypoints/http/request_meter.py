"""WSGI middleware outside every other: each request's id, count, time and access line.

It wraps the fast paths too (fast_path.py, page_fast_path.py), so a cached lookup
answered without Flask is counted like any other. The route is the one a fast path
or Flask (`name_route`, once it matched a rule) names in `environ[ROUTE]`, else
`unmatched` (a 404): never the raw path, which would make a label per sno.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import request

from logistic.entrypoints.logs import request_id
from logistic.services.metering import (
    RATE_LIMITED,
    REQUEST_SECONDS,
    REQUESTS,
    Meter,
    status_class,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Where a fast path names the route it answered.
ROUTE = "logistic.route"
HEADER = "X-Request-ID"
# What an id from a client or a proxy may be: a UUID, a trace id, a short token.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = logging.getLogger("logistic.access")


class RequestMeter:
    def __init__(self, app: WsgiApp, meter: Meter, access_sample: float) -> None:
        self._app = app
        self._meter = meter
        self._sample = access_sample

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID")
        rid = given if given is not None and _VALID_ID.fullmatch(given) else _new_id()
        token = request_id.set(rid)
        answered: list[int] = []

        def start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            answered.append(int(status[:3]))
            headers.append((HEADER, rid))
            return start_response(status, headers, *rest)

        try:
            body = self._app(environ, start)
            self._count(environ, answered[-1] if answered else 500, started)
            return body
        finally:
            request_id.reset(token)

    def _count(self, environ: dict[str, Any], status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        route = environ.get(ROUTE) or "unmatched"
        meter = self._meter
        if meter.enabled:
            meter.add(REQUESTS, route, status_class(status))
            meter.observe(REQUEST_SECONDS, seconds, route)
            if status == 429:
                meter.add(RATE_LIMITED, route)
        if self._sample and random.random() < self._sample:
            access_log.info(
                "%s %s %d",
                environ.get("REQUEST_METHOD"),
                route,
                status,
                extra={"route": route, "status": status, "duration_ms": seconds * 1000},
            )


def _new_id() -> str:
    """32 hex digits from `random` (reseeded in each forked worker): an id to find a
    request's lines by, not a secret; `secrets` would cost each request a system call,
    during which the worker's other thread may take the GIL."""
    return f"{random.getrandbits(128):032x}"


def name_route() -> None:
    """Flask's first `before_request`: the matched rule, for the count of this request."""
    rule = request.url_rule
    if rule is not None:
        request.environ[ROUTE] = rule.rule
