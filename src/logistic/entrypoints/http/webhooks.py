"""/webhooks: subscriptions, their secrets, their messages (docs/webhooks.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from logistic.domain.access import Scope
from logistic.domain.errors import InvalidInput
from logistic.domain.webhook import Message, MessageStatus, Subscription
from logistic.entrypoints.http.auth import caller
from logistic.entrypoints.http.json_body import json_body
from logistic.entrypoints.http.views import container, json_response
from logistic.services.rendering import to_json_bytes
from logistic.services.webhooks import Webhooks, parse_description, parse_statuses

webhooks = Blueprint("webhooks", __name__)

# Every route of this blueprint needs this scope (guarded in create_app).
SCOPE = Scope.WEBHOOKS_WRITE
CREATE_FIELDS = ("url", "statuses", "description")
CHANGE_FIELDS = ("url", "statuses", "enabled", "description")
_STATUSES = ", ".join(
    status.value for status in MessageStatus if status is not MessageStatus.PENDING
)


def _service() -> Webhooks:
    return container().webhooks()


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def subscription_document(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "statuses": [status.value for status in subscription.statuses],
        "description": subscription.description,
        "enabled": subscription.enabled,
        "created_at": _moment(subscription.created_at),
        "failing_since": _moment(subscription.failing_since),
        "previous_secret_until": _moment(subscription.previous_until),
    }


def message_document(message: Message) -> dict[str, Any]:
    return {
        "id": message.webhook_id,
        "type": message.type,
        "status": message.status.value,
        "created_at": _moment(message.created_at),
        "next_attempt_at": _moment(message.next_attempt_at),
        "payload": json.loads(message.body),
        "attempts": [
            {
                "at": _moment(attempt.at),
                "status_code": attempt.status_code,
                "latency_ms": attempt.latency_ms,
                "answer": attempt.answer,
            }
            for attempt in message.history
        ],
    }


def _ok(data: Any, status: int = 200) -> Response:
    return json_response(to_json_bytes({"status": "ok", "data": data}), status)


def _object(example: str, fields: tuple[str, ...]) -> dict[str, Any]:
    document = json_body(example)
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object")
    unknown = sorted(set(document) - set(fields))
    if unknown:
        raise InvalidInput(f"unknown fields {unknown}; the fields are {', '.join(fields)}")
    return document


@webhooks.post("/webhooks")
def subscribe() -> Response:
    document = _object('{"url": "https://example.com/hooks"}', CREATE_FIELDS)
    if "url" not in document:
        raise InvalidInput("url is required, an absolute https URL")
    statuses = parse_statuses(document.get("statuses", []))
    description = parse_description(document.get("description", ""))
    who = caller()
    pii = container().settings().pii_full or who.may(Scope.PII_READ)
    made = _service().subscribe(document["url"], statuses, description, pii)
    # The secret is shown here and at a rotation only: it is not readable afterwards.
    return _ok({**subscription_document(made), "secret": made.secret}, 201)


@webhooks.get("/webhooks")
def listing() -> Response:
    return _ok({"webhooks": [subscription_document(s) for s in _service().all()]})


@webhooks.get("/webhooks/<subscription_id>")
def one(subscription_id: str) -> Response:
    return _ok(subscription_document(_service().get(subscription_id)))


@webhooks.patch("/webhooks/<subscription_id>")
def change(subscription_id: str) -> Response:
    document = _object('{"enabled": false}', CHANGE_FIELDS)
    enabled = document.get("enabled")
    if "enabled" in document and not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false")
    if "url" in document and not isinstance(document["url"], str):
        raise InvalidInput("url must be an absolute https URL")
    changed = _service().change(
        subscription_id,
        url=document.get("url"),
        statuses=parse_statuses(document["statuses"]) if "statuses" in document else None,
        enabled=enabled,
        description=(
            parse_description(document["description"]) if "description" in document else None
        ),
    )
    return _ok(subscription_document(changed))


@webhooks.delete("/webhooks/<subscription_id>")
def delete(subscription_id: str) -> Response:
    _service().delete(subscription_id)
    return Response(status=204)


@webhooks.post("/webhooks/<subscription_id>/rotate-secret")
def rotate(subscription_id: str) -> Response:
    rotated = _service().rotate(subscription_id)
    return _ok({**subscription_document(rotated), "secret": rotated.secret})


@webhooks.post("/webhooks/<subscription_id>/test")
def test(subscription_id: str) -> Response:
    message = _service().test(subscription_id)
    return _ok({"type": message.type, "created_at": _moment(message.created_at)}, 202)


@webhooks.get("/webhooks/<subscription_id>/messages")
def messages(subscription_id: str) -> Response:
    raw = request.args.get("status")
    status = None
    if raw is not None:
        if raw not in _STATUSES.split(", "):
            raise InvalidInput(f"status must be one of: {_STATUSES}")
        status = MessageStatus(raw)
    found = _service().messages(subscription_id, status)
    return _ok({"messages": [message_document(message) for message in found]})


@webhooks.post("/webhooks/<subscription_id>/messages/<message_id>/retry")
def retry(subscription_id: str, message_id: str) -> Response:
    return _ok(message_document(_service().retry(subscription_id, message_id)), 202)
