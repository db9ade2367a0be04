"""The tracking pages for people: the search page, a parcel's page, its short link, and the
recipient's full details for the last four digits of their phone.

A plain `GET /track/<digits>` is answered in front of Flask (page_fast_path.py); these
views answer the rest the same way, and every failure here is an HTML page.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import cast
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, redirect, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter
from werkzeug.wrappers import Response

from logistic.container import Container
from logistic.domain.errors import DomainError, InvalidInput, RateLimited
from logistic.domain.language import Language, chosen
from logistic.entrypoints.http.assets import Assets, assets
from logistic.entrypoints.http.clients import request_client
from logistic.entrypoints.http.errors import rate_limit_headers
from logistic.entrypoints.http.inputs import sno_from_path
from logistic.entrypoints.http.page_fast_path import PagePath
from logistic.entrypoints.http.page_renderer import PageRenderer, environment
from logistic.entrypoints.http.tracking_pages import PRIVATE, TrackingPages, html_response
from logistic.entrypoints.http.wording import WORDINGS
from logistic.services.disclosure import DigitsMismatch

pages = Blueprint("pages", __name__)

LANGUAGE_COOKIE = "lang"
LANGUAGE_KEPT = timedelta(days=365)


class TypedText(PathConverter):
    """Whatever a person put after /track/ or /t/, line breaks included: it gets the pages'
    own answer (a cleaned-up redirect or an HTML 400), not routing's JSON 404."""

    regex = r"[^/][\s\S]*?"


def install(app: Flask, container: Container) -> None:
    """The pages, their stylesheet and script, and the fast path of a plain page, on `app`."""
    app.url_map.converters["typed"] = TypedText
    settings = container.settings()
    served = Assets()
    renderer = PageRenderer(
        environment(),
        served,
        container.locations(),
        settings.timezone,
        settings.page_refresh,
        # Looked up at each page: a test may put another tracking service in place later.
        lambda shipment: container.tracking().estimate(shipment),
    )
    app.extensions["logistic.assets"] = served
    app.extensions["logistic.pages"] = tracking_pages = TrackingPages(container, renderer)
    app.register_blueprint(pages)
    app.register_blueprint(assets)
    app.wsgi_app = PagePath(app.wsgi_app, container, tracking_pages)  # type: ignore[method-assign]


def _container() -> Container:
    return cast(Container, current_app.extensions["logistic"])


def _pages() -> TrackingPages:
    return cast(TrackingPages, current_app.extensions["logistic.pages"])


def _asked() -> str | None:
    return request.values.get("lang")


def language() -> Language:
    """`?lang=` (or the forms' hidden field), else the cookie, else Accept-Language."""
    return chosen(
        _asked(), request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language")
    )


def remembered(response: Response) -> Response:
    """`response`, with the cookie that keeps a language asked for by `?lang=`."""
    asked = Language.from_tag(_asked())
    if asked is not None and asked.value != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            asked.value,
            max_age=int(LANGUAGE_KEPT.total_seconds()),
            samesite="Lax",
        )
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def normalized(raw: str) -> str:
    """What a person meant to type: full-width digits as ASCII, outer spaces gone."""
    return unicodedata.normalize("NFKC", raw).strip()


@pages.get("/")
def search() -> Response:
    here = language()
    return remembered(html_response(_pages().renderer.search(here), 200, here))


@pages.get("/track")
def find() -> Response:
    """The search form's target: a well-typed number goes on to its page."""
    here = language()
    raw = request.args.get("sno")
    if raw is None:
        return remembered(redirect("/", 303))
    cleaned = normalized(raw)
    try:
        if not cleaned:
            raise InvalidInput("sno is required")
        sno = sno_from_path(cleaned)
    except InvalidInput as error:
        return remembered(_pages().problem(error, here, value=raw if cleaned else ""))
    return remembered(redirect(f"/track/{sno}", 303))


@pages.get("/track/")
def bare_track() -> Response:
    return redirect("/", 303)


@pages.get("/t/<typed:raw>")
def short_link(raw: str) -> Response:
    """The short link of notifications; its query string (`?lang=en`) goes along."""
    query = request.query_string.decode("latin-1")
    return redirect(f"/track/{quote(raw, safe='')}" + (f"?{query}" if query else ""), 301)


@pages.get("/track/<typed:raw>")
def track(raw: str) -> Response:
    here = language()
    counted_client = request_client(_container().settings().trusted_proxies)
    try:
        sno = sno_from_path(raw)
    except InvalidInput as error:
        cleaned = normalized(raw)
        if cleaned != raw and cleaned.isascii() and cleaned.isdigit():
            return redirect(f"/track/{cleaned}", 301)
        return _refused(error, counted_client, here, raw)
    return remembered(_pages().page(counted_client, sno, here))


@pages.post("/track/<typed:raw>")
def reveal(raw: str) -> Response:
    """The page with the whole recipient, for the last four digits of their phone."""
    here = language()
    client = request_client(_container().settings().trusted_proxies)
    try:
        sno = sno_from_path(raw)
    except InvalidInput as error:
        return _refused(error, client, here, raw)
    served = _pages()
    try:
        limits = rate_limit_headers(_container().throttle().admit(client))
    except RateLimited as error:
        return _private(served.problem(error, here, value=str(sno)))
    try:
        shipment = (
            _container()
            .disclosure()
            .reveal(client, sno, normalized(request.form.get("digits", "")))
        )
    except (DigitsMismatch, InvalidInput) as error:
        return _refusal(served, sno, here, error, limits)
    except RateLimited as error:
        tries = WORDINGS[here].text["too_many_tries"].format(seconds=error.retry_after)
        return _private(served.problem(error, here, value=str(sno), sentence=tries))
    except DomainError as error:
        return _private(served.problem(error, here, value=str(sno), extra=limits))
    page = served.renderer.tracking(shipment, here, disclosed=True)
    return _private(html_response(page, 200, here, limits))


def _refusal(
    served: TrackingPages,
    sno: int,
    here: Language,
    error: DomainError,
    limits: list[tuple[str, str]],
) -> Response:
    """The masked page again, saying why the digits were refused."""
    shipment = _container().query_shipments().get(sno)
    if shipment is None:
        return _private(served.problem(error, here, value=str(sno), extra=limits))
    text = WORDINGS[here].text
    notice = text["digits_wrong" if isinstance(error, DigitsMismatch) else "digits_malformed"]
    page = served.renderer.tracking(shipment, here, notice=notice)
    status = 403 if isinstance(error, DigitsMismatch) else 400
    return _private(html_response(page, status, here, limits))


def _refused(error: InvalidInput, client: str, here: Language, raw: str) -> Response:
    """A malformed order number in a page's path: counted as a lookup, then its 400 page."""
    try:
        limits = rate_limit_headers(_container().throttle().admit(client))
    except RateLimited as limited:
        return _pages().problem(limited, here)
    return remembered(_pages().problem(error, here, value=raw, extra=limits))


def _private(response: Response) -> Response:
    remembered(response).headers["Cache-Control"] = PRIVATE
    return response


@pages.errorhandler(Exception)
def failed(error: Exception) -> Response:
    """Whatever a page view did not answer itself is an HTML page too, never JSON or a trace."""
    here = language()
    if isinstance(error, HTTPException):
        body = _pages().renderer.problem(here, "broken_title", error.description or error.name)
        return html_response(body, error.code or 500, here)
    return _pages().problem(error, here)
