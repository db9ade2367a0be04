"""GET /dashboard: the published reports as charts, for people, with the access of /reports.

Once any API key is configured the page asks for one with `reports:read`, once: the
session cookie then keeps the key's digest (signed, HttpOnly, SameSite=Strict, sent to
/dashboard only), so a removed key signs its holders out. A caller may also send the key
as `Authorization: Bearer`. Every answer is an HTML page, a failure too.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta
from typing import cast
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, current_app, redirect, request, session
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from logistic.container import Container
from logistic.domain.access import ANONYMOUS, Caller, Scope, key_digest
from logistic.domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    ReportNotFound,
    StorageUnavailable,
    Unauthorized,
)
from logistic.domain.language import Language
from logistic.domain.report_slot import ReportSlot
from logistic.entrypoints.http.auth import bearer_key
from logistic.entrypoints.http.dashboard_page import DashboardRenderer, slot_words
from logistic.entrypoints.http.dashboard_session import DashboardSessions
from logistic.entrypoints.http.dashboard_wording import DASHBOARD_TEXT
from logistic.entrypoints.http.json_body import MAX_BODY_BYTES
from logistic.entrypoints.http.page_renderer import PageRenderer
from logistic.entrypoints.http.pages import language, remembered
from logistic.entrypoints.http.tracking_pages import PRIVATE, html_response

log = logging.getLogger(__name__)

dashboard = Blueprint("dashboard", __name__)

SIGNED_IN_FOR = timedelta(hours=12)
_KEY = "key"  # the session's digest of the signed-in key
_TOKEN = "token"  # noqa: S105 (the name of the session's sign-out token, not a secret)
_SHOWN_INPUT = 40


def install(app: Flask, container: Container, pages: PageRenderer) -> None:
    """The dashboard's routes on `app`, and the session cookie they keep."""
    app.secret_key = container.session_secret()
    app.config.update(
        SESSION_COOKIE_NAME="logistic_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/dashboard",
        PERMANENT_SESSION_LIFETIME=SIGNED_IN_FOR,
    )
    app.session_interface = DashboardSessions(container.settings().trusted_proxies)
    app.extensions["logistic.dashboard"] = DashboardRenderer(pages)
    app.register_blueprint(dashboard)


def _container() -> Container:
    return cast(Container, current_app.extensions["logistic"])


def _renderer() -> DashboardRenderer:
    return cast(DashboardRenderer, current_app.extensions["logistic.dashboard"])


def _page(body: str, status: int, here: Language) -> Response:
    response = remembered(html_response(body, status, here))
    response.headers["Cache-Control"] = PRIVATE
    if status == 401:
        # HTTP asks every 401 to name a scheme: the one an API client may use here.
        response.headers["WWW-Authenticate"] = 'Bearer realm="logistic"'
    return response


def _token() -> str | None:
    """The sign-out token of whoever is signed in through the session (None: nobody)."""
    token = session.get(_TOKEN)
    return token if isinstance(token, str) and isinstance(session.get(_KEY), str) else None


def _caller() -> Caller:
    """Who asks: the Bearer key's holder, else the signed-in key's, else anonymous."""
    access = _container().access()
    key = bearer_key(request.headers.get("Authorization"))
    if key is not None:
        return access.identify(key)
    digest = session.get(_KEY)
    # With no key left at all the page is open again, as /reports is.
    if isinstance(digest, str) and access.configured():
        try:
            return access.holder(digest)
        except Unauthorized:
            session.clear()  # the key was removed since: signed out
            raise
    return ANONYMOUS


def _slot_asked() -> ReportSlot | None:
    values = request.args.getlist("slot")
    if len(values) > 1:
        raise InvalidInput(f"slot was given {len(values)} times; give it once")
    if not values:
        return None
    return _container().dashboard().slot(values[0].strip())


def _shown(raw: str) -> str:
    return raw if len(raw) <= _SHOWN_INPUT else raw[:_SHOWN_INPUT] + "…"


@dashboard.get("/dashboard")
def board() -> Response:
    here = language()
    d = DASHBOARD_TEXT[here]
    try:
        _container().access().authorize(_caller(), Scope.REPORTS_READ, always=False)
    except Unauthorized:
        return _page(_renderer().sign_in(here, None, request.args.get("slot", "")), 401, here)
    except Forbidden:
        notice = d["missing_scope"]
        return _page(_renderer().sign_in(here, notice, request.args.get("slot", "")), 403, here)
    token = _token()
    raw = request.args.get("slot", "")
    try:
        asked = _slot_asked()
        view = _container().dashboard().view(asked)
    except InvalidInput:
        said = d["bad_slot"].format(raw=_shown(raw))
        return _page(_renderer().problem(here, "bad_slot_title", said, token, raw), 400, here)
    except ReportNotFound:
        said = d["no_report"].format(slot=slot_words(asked)) if asked else d["none_yet"]
        body = _renderer().problem(here, "no_report_title", said, token, raw)
        return _page(body, 404, here)
    return _page(_renderer().dashboard(view, here, token), 200, here)


def _back_to_board(slot: str = "") -> Response:
    query = {"slot": slot, "lang": request.values.get("lang", "")}
    kept = {name: value for name, value in query.items() if value}
    return remembered(redirect("/dashboard" + (f"?{urlencode(kept)}" if kept else ""), 303))


def _bounded() -> None:
    """A form of these pages is a few hundred bytes: a far larger body is refused unread."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise RequestEntityTooLarge(f"the form is limited to {MAX_BODY_BYTES} bytes")


def _same_origin() -> bool:
    """False for a form posted from another site (browsers send Origin with every POST)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@dashboard.get("/dashboard/sign-in")
def sign_in_form() -> Response:
    return _back_to_board(request.args.get("slot", ""))


@dashboard.post("/dashboard/sign-in")
def sign_in() -> Response:
    _bounded()
    here = language()
    d = DASHBOARD_TEXT[here]
    slot = request.form.get("slot", "")
    try:
        ReportSlot.parse(slot, "UTC")
    except InvalidInput:
        slot = ""
    if not _same_origin():
        return _page(_renderer().sign_in(here, d["wrong_key"], slot), 403, here)
    typed = request.form.get("key", "").strip()
    access = _container().access()
    if not typed:
        notice, status = d["empty_key"], 401
    else:
        try:
            caller = access.identify(typed)
            access.authorize(caller, Scope.REPORTS_READ)
        except Unauthorized:
            notice, status = d["wrong_key"], 401
        except Forbidden:
            notice, status = d["missing_scope"], 403
        else:
            session.clear()
            session.permanent = True
            session[_KEY] = key_digest(typed)
            session[_TOKEN] = secrets.token_urlsafe(24)
            return _back_to_board(slot)
    if not access.configured():
        return _back_to_board(slot)
    return _page(_renderer().sign_in(here, notice, slot), status, here)


@dashboard.post("/dashboard/sign-out")
def sign_out() -> Response:
    _bounded()
    here = language()
    token = _token()
    sent = request.form.get("token", "")
    if token is not None and not (
        _same_origin() and hmac.compare_digest(token.encode(), sent.encode())
    ):
        body = _renderer().problem(here, "broken_title", DASHBOARD_TEXT[here]["expired"], token)
        return _page(body, 403, here)
    session.clear()
    return _back_to_board()


@dashboard.errorhandler(Exception)
def failed(error: Exception) -> Response:
    """Whatever a dashboard view did not answer itself is an HTML page too, never a trace."""
    here = language()
    d = DASHBOARD_TEXT[here]
    if isinstance(error, HTTPException):
        body = _renderer().problem(here, "broken_title", error.description or error.name, None)
        return _page(body, error.code or 500, here)
    if isinstance(error, Unauthorized):
        return _page(_renderer().sign_in(here, d["wrong_key"], ""), 401, here)
    if isinstance(error, StorageUnavailable):
        log.error("dashboard failed: %s", error, exc_info=error)
        body = _renderer().problem(here, "unavailable_title", d["unavailable"], None)
        return _page(body, 503, here)
    if isinstance(error, DomainError):
        log.error("dashboard failed: %s", error, exc_info=error)
    else:
        log.exception("unexpected error on the dashboard", exc_info=error)
    return _page(_renderer().problem(here, "broken_title", d["broken"], None), 500, here)
