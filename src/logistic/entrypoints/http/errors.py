"""Every error becomes one JSON envelope; the mapping to status codes lives here only."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from logistic.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    IdempotencyKeyReused,
    InvalidInput,
    LocationNotFound,
    RateLimited,
    ReportNotFound,
    ShipmentNotFound,
    StorageUnavailable,
    TransitionRefused,
    Unauthorized,
    WebhookMessageNotFound,
    WebhookNotFound,
)
from logistic.services.rate_limit import Allowance
from logistic.services.rendering import to_json_bytes

log = logging.getLogger(__name__)

STATUS_CODES: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (IdempotencyConflict, 409),
    (IdempotencyKeyReused, 422),
    (ShipmentNotFound, 404),
    (ReportNotFound, 404),
    (LocationNotFound, 422),
    (TransitionRefused, 409),
    (ConcurrentUpdate, 409),
    (StorageUnavailable, 503),
    (WebhookNotFound, 404),
    (WebhookMessageNotFound, 404),
)


def error_response(code: int, message: str, **extra: Any) -> Response:
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    body = to_json_bytes({"status": "error", "data": None, "error": error})
    return Response(body, status=code, content_type="application/json; charset=utf-8")


def status_for(error: DomainError) -> int:
    """The HTTP status of `error` (500 for one without a mapping: a bug)."""
    for kind, code in STATUS_CODES:
        if isinstance(error, kind):
            return code
    return 500


def domain_error_response(error: DomainError) -> Response:
    code = status_for(error)
    if code >= 500:
        log.error("request failed: %s", error, exc_info=error)
    if isinstance(error, TransitionRefused):
        return error_response(
            code, str(error), current_status=error.current, allowed_next=list(error.allowed)
        )
    response = error_response(code, str(error))
    if isinstance(error, Unauthorized):
        response.headers["WWW-Authenticate"] = 'Bearer realm="logistic"'
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
        response.headers.extend(rate_limit_headers(Allowance(error.limit, 0, error.retry_after)))
    return response


def rate_limit_headers(allowance: Allowance | None) -> list[tuple[str, str]]:
    """The quota left to the caller, as every counted /query answer tells it."""
    if allowance is None:
        return []
    return [
        ("X-RateLimit-Limit", str(allowance.limit)),
        ("X-RateLimit-Remaining", str(allowance.remaining)),
        ("X-RateLimit-Reset", str(allowance.reset_after)),
    ]


def _http_error(error: HTTPException) -> Response:
    response = error_response(error.code or 500, error.description or error.name)
    allow = error.get_response().headers.get("Allow")
    if allow:
        response.headers["Allow"] = allow
    return response


def unexpected_error_response(error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return error_response(500, "internal error; it has been logged")


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, unexpected_error_response)
