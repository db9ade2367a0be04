"""Plain /query requests served without Flask; every other request goes on to the Flask app.

Only `GET /query?sno=<digits>` is taken here, and only what Flask would answer
the same way: the client is counted (one trip to Redis with the cache read),
the audience comes from the same key rules, and the body (cached, or read from
the database and cached, as the view does) goes out with the headers Flask
gives it, the quota left among them; errors, a 429 over the quota among them,
get the JSON and headers of Flask's error handlers. Anything else (a missing or
malformed sno, a bad key) is Flask's to answer, as if this piece did not exist.
Flask's routing and request objects were a quarter of a cache miss's CPU, hence
the misses too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.domain.errors import DomainError, ShipmentNotFound
from logistic.entrypoints.http.auth import bearer_key
from logistic.entrypoints.http.clients import environ_client
from logistic.entrypoints.http.conditional import not_modified, validator_headers
from logistic.entrypoints.http.errors import (
    domain_error_response,
    rate_limit_headers,
    unexpected_error_response,
)
from logistic.entrypoints.http.inputs import MAX_SNO
from logistic.entrypoints.http.request_meter import ROUTE
from logistic.services.etag import TAG_LENGTH, untagged
from logistic.services.tracking import View

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_SNO_ONLY = re.compile(r"sno=([0-9]{1,19})")
_JSON = "application/json; charset=utf-8"

log = logging.getLogger(__name__)


class FastPath:
    """WSGI middleware in front of the Flask app (`app.wsgi_app`)."""

    def __init__(self, app: WsgiApp, container: Container) -> None:
        self._app = app
        self._container = container
        # Read once: a container's settings are fixed, and the provider checks their type.
        self._settings = container.settings()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != "/query":
            return self._app(environ, start_response)
        answer = self._answer(environ)
        if answer is None:
            return self._app(environ, start_response)
        environ[ROUTE] = "/query"
        if isinstance(answer, tuple):
            value, view, limits = answer
            etag, body = untagged(value)
            validators = validator_headers(etag, view)
            # No body: the cache found the tag the caller holds (`_held_tag`).
            if not body or not_modified(environ.get("HTTP_IF_NONE_MATCH"), etag):
                start_response("304 Not Modified", [*validators, *limits])
                return []
            length = str(len(body))
            start_response(
                "200 OK",
                [("Content-Type", _JSON), ("Content-Length", length), *validators, *limits],
            )
            return [body]
        return answer(environ, start_response)

    def _answer(
        self, environ: dict[str, Any]
    ) -> tuple[bytes, View, list[tuple[str, str]]] | Response | None:
        """The cached value (entity tag and body) of a plain /query, its view and its
        quota headers, or its error response; None when Flask must answer."""
        try:
            sno = _plain_sno(environ.get("QUERY_STRING", ""))
            view = None if sno is None else self._view(environ)
            if sno is None or view is None:
                return None
            client = environ_client(environ, self._settings.trusted_proxies)
            quick_query = self._container.quick_query()
        except Exception:
            # Nothing is counted yet: Flask answers, and counts, as if this piece did not
            # exist. Logged, so that a broken fast path does not pass for a slow one.
            log.warning("the fast path failed before counting; Flask answers", exc_info=True)
            return None
        limits: list[tuple[str, str]] = []
        try:
            held = _held_tag(environ.get("HTTP_IF_NONE_MATCH"))
            counted = quick_query.cached(client, sno, view, held)  # a 429 is raised here
            limits = rate_limit_headers(counted.allowance)
            if counted.unknown:
                raise ShipmentNotFound(sno)
            value = counted.body
            if value is None:
                tracking = self._container.tracking()
                value = tracking.uncached_tagged_body(sno, view, negative_checked=True)
        except Exception as error:
            # Counted (perhaps): answered here, never handed on to be counted again,
            # with the quota headers Flask adds to its error responses too.
            response = (
                domain_error_response(error)
                if isinstance(error, DomainError)
                else unexpected_error_response(error)
            )
            response.headers.extend(limits)
            return response
        return value, view, limits

    def _view(self, environ: dict[str, Any]) -> View | None:
        """The caller's view as `auth.query_view` decides it; None when Flask must answer."""
        if self._settings.pii_full:
            return View.FULL
        try:
            key = bearer_key(environ.get("HTTP_AUTHORIZATION"))
            caller = self._container.access().identify(key)
        except DomainError:
            return None
        return View.FULL if caller.may(Scope.PII_READ) else View.MASKED


def _held_tag(if_none_match: str | None) -> bytes | None:
    """The one strong tag a poller sends back, for the cache to compare; None for anything
    else (a list, `*`, a weak tag), which is compared here after a full read."""
    if if_none_match is None or len(if_none_match) != TAG_LENGTH or if_none_match[0] != '"':
        return None
    return if_none_match.encode("latin-1")


def _plain_sno(query: str) -> int | None:
    """The sno of a query string that is exactly `sno=<digits>`, when it is in range."""
    match = _SNO_ONLY.fullmatch(query)
    if match is None:
        return None
    sno = int(match.group(1))
    return sno if 1 <= sno <= MAX_SNO else None
