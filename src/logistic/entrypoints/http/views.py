"""The JSON routes of the original contract: /query, /fake, /healthz, /readyz."""

from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, current_app, g, request

from logistic.container import Container
from logistic.domain.access import Scope
from logistic.entrypoints.http.auth import query_view, require
from logistic.entrypoints.http.clients import request_client
from logistic.entrypoints.http.conditional import conditional_response
from logistic.entrypoints.http.errors import error_response, rate_limit_headers
from logistic.entrypoints.http.inputs import parse_num, parse_sno
from logistic.services.fake_orders import DEFAULT_COUNT
from logistic.services.rendering import fake_orders_document, to_json_bytes

api = Blueprint("api", __name__)

JSON = "application/json; charset=utf-8"


def container() -> Container:
    return cast(Container, current_app.extensions["logistic"])


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=JSON)


@api.get("/query")
def query() -> Response:
    # Plain requests are answered by the fast path (fast_path.py); these are the rest.
    # Counted before anything else: a scan of order numbers is what the limit stops.
    g.allowance = (
        container().throttle().admit(request_client(container().settings().trusted_proxies))
    )
    view = query_view()
    sno = parse_sno(request.args)
    value = container().tracking().tagged_body(sno, view)
    return conditional_response(value, view, request.headers.get("If-None-Match"))


@api.after_request
def quota_left(response: Response) -> Response:
    """Every counted /query answer, an error too, tells the caller the quota left."""
    response.headers.extend(rate_limit_headers(g.pop("allowance", None)))
    return response


@api.get("/fake")
def fake() -> Response:
    if not container().settings().fake_api:
        return error_response(404, "the fake-order API is switched off (LOGISTIC_FAKE_API=off)")
    require(Scope.FAKE_WRITE, always=False)
    num = parse_num(request.args, DEFAULT_COUNT)
    shipments = container().fake_orders().create(num)
    return json_response(to_json_bytes(fake_orders_document(shipments)))


@api.get("/healthz")
def healthz() -> Response:
    return json_response(to_json_bytes({"status": "ok"}))


@api.get("/readyz")
def readyz() -> Response:
    ready, detail = container().readiness().report()
    body = to_json_bytes({"status": "ok" if ready else "unavailable", "checks": detail})
    return json_response(body, 200 if ready else 503)
