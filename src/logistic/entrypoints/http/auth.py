"""`Authorization: Bearer <key>`: who is calling, and guards for routes that need a scope."""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g, request

from logistic.container import Container
from logistic.domain.access import Caller, Scope
from logistic.domain.errors import Unauthorized
from logistic.services.tracking import View


def _container() -> Container:
    return cast(Container, current_app.extensions["logistic"])


def bearer_key(header: str | None) -> str | None:
    """The key of an Authorization header (None without one); Unauthorized if it is not Bearer."""
    if header is None:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send the API key as 'Authorization: Bearer <key>'")
    return key.strip()


def caller() -> Caller:
    """The caller of this request (anonymous without a key); Unauthorized for a wrong key."""
    if "caller" not in g:
        g.caller = _container().access().identify(bearer_key(request.headers.get("Authorization")))
    found: Caller = g.caller
    return found


def require(scope: Scope, always: bool = True) -> Caller:
    """The caller, if they hold `scope`; with `always=False` anyone while no key is configured."""
    who = caller()
    _container().access().authorize(who, scope, always=always)
    return who


def guard(app: Flask, blueprint: str, scope: Scope, always: bool = True) -> None:
    """Every route of `blueprint` in `app` needs `scope` (see `require`)."""

    def check() -> None:
        # A CORS preflight carries no credentials; Flask answers it without running a view.
        if request.method != "OPTIONS":
            require(scope, always=always)

    app.before_request_funcs.setdefault(blueprint, []).append(check)


def query_view() -> View:
    """The full recipient for holders of pii:read (or everyone, LOGISTIC_PII=full); else masked."""
    if _container().settings().pii_full or caller().may(Scope.PII_READ):
        return View.FULL
    return View.MASKED
