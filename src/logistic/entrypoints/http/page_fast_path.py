"""Plain tracking pages served without Flask; every other request goes on to the Flask app.

Only `GET /track/<digits>` without a query string is taken here, and only when its
language is plain to read (the `lang` cookie, if any, a bare tag): the client is
counted and the cached page read in one trip, as for /query (fast_path.py), and the
page or its error page goes out as pages.py would send it. A cached page then costs
about what a cached /query body does. Anything else is Flask's to answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from logistic.container import Container
from logistic.domain.language import Language, chosen
from logistic.entrypoints.http.clients import environ_client
from logistic.entrypoints.http.errors import rate_limit_headers
from logistic.entrypoints.http.inputs import MAX_SNO
from logistic.entrypoints.http.request_meter import ROUTE
from logistic.entrypoints.http.tracking_pages import TrackingPages, page_headers

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The route of pages.py's rule, so both are counted as one.
PAGE_ROUTE = "/track/<typed:raw>"
_TRACK = re.compile(r"/track/([0-9]{1,19})")
_LANGUAGE_COOKIE = re.compile(r"(?:^|;)\s*lang=([A-Za-z-]{0,16})\s*(?=;|$)")

log = logging.getLogger(__name__)


class PagePath:
    """WSGI middleware in front of the Flask app (`app.wsgi_app`)."""

    def __init__(self, app: WsgiApp, container: Container, pages: TrackingPages) -> None:
        self._app = app
        self._pages = pages
        # Read once: a container's settings are fixed, and the provider checks their type.
        self._proxies = container.settings().trusted_proxies
        self._headers = {language: page_headers(language) for language in Language}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith("/track/")
            or environ.get("REQUEST_METHOD") != "GET"
            or environ.get("QUERY_STRING")
        ):
            return self._app(environ, start_response)
        sno = _plain_sno(path)
        language = None if sno is None else _language(environ)
        if sno is None or language is None:
            return self._app(environ, start_response)
        try:
            client = environ_client(environ, self._proxies)
        except Exception:
            log.warning("the page fast path failed before counting; Flask answers", exc_info=True)
            return self._app(environ, start_response)
        environ[ROUTE] = PAGE_ROUTE
        limits: list[tuple[str, str]] = []
        try:
            counted = self._pages.counted(client, sno, language)  # a 429 is raised here
            limits = rate_limit_headers(counted.allowance)
            body = self._pages.body(counted, sno, language)
        except Exception as error:
            # Counted (perhaps): answered here, never handed on to be counted again.
            page = self._pages.problem(error, language, value=str(sno), extra=limits)
            return page(environ, start_response)
        start_response(
            "200 OK", [*self._headers[language], ("Content-Length", str(len(body))), *limits]
        )
        return [body]


def _plain_sno(path: str) -> int | None:
    match = _TRACK.fullmatch(path)
    if match is None:
        return None
    sno = int(match.group(1))
    return sno if 1 <= sno <= MAX_SNO else None


def _language(environ: dict[str, Any]) -> Language | None:
    """The page's language as pages.language() reads it; None when the cookie header is
    not plain enough to read the same way here."""
    cookies = environ.get("HTTP_COOKIE")
    remembered = None
    if cookies and "lang=" in cookies:
        found = _LANGUAGE_COOKIE.findall(cookies)
        if len(found) != 1:
            return None
        remembered = found[0]
    return chosen(None, remembered, environ.get("HTTP_ACCEPT_LANGUAGE"))
