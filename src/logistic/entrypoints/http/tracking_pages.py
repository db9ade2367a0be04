"""Serving the tracking pages: a page counted against the lookup quota and read from the
cache beside the /query bodies (rendered on a miss), and every failure as an HTML page.

Shared by the Flask views (pages.py) and the WSGI piece in front of Flask that answers a
plain `GET /track/<digits>` (page_fast_path.py), so both answer the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from werkzeug.wrappers import Response

from logistic.container import Container
from logistic.domain.errors import (
    DomainError,
    InvalidInput,
    RateLimited,
    ShipmentNotFound,
    StorageUnavailable,
)
from logistic.domain.language import Language
from logistic.entrypoints.http.errors import rate_limit_headers
from logistic.entrypoints.http.page_renderer import HTML, SECURITY_HEADERS, PageRenderer
from logistic.entrypoints.http.wording import WORDINGS
from logistic.services.quick_query import Counted
from logistic.services.rate_limit import Allowance
from logistic.services.tracking import page_key

log = logging.getLogger(__name__)

Headers = list[tuple[str, str]]
# A page may change with the next scan: browsers ask again each time (the script polls).
PUBLIC = "no-cache"
# A page with the whole recipient, or an answer to a form: kept by no cache anywhere.
PRIVATE = "private, no-store"
_SHOWN_INPUT = 40


def page_headers(language: Language, cache_control: str = PUBLIC) -> Headers:
    """The headers of every page but Content-Length (and Set-Cookie, the quota)."""
    return [
        ("Content-Type", HTML),
        ("Content-Language", language.value),
        ("Vary", "Accept-Language, Cookie"),
        ("Cache-Control", cache_control),
        *SECURITY_HEADERS,
    ]


def html_response(
    body: bytes | str, status: int, language: Language, extra: Sequence[tuple[str, str]] = ()
) -> Response:
    response = Response(body, status=status)
    response.headers.clear()
    response.headers.extend(page_headers(language))
    response.headers.extend(extra)
    response.headers["Content-Length"] = str(len(response.get_data()))
    return response


class TrackingPages:
    """The pages of one app: its renderer, and its container's cache, quota and data."""

    def __init__(self, container: Container, renderer: PageRenderer) -> None:
        self._container = container
        self.renderer = renderer

    def counted(self, client: str, sno: int, language: Language) -> Counted:
        """The page of `sno` counted as a lookup of `client`, with what the cache holds
        for it. RateLimited past the quota."""
        tracking = self._container.tracking()
        key = tracking.servable(page_key(sno, language))
        return self._container.quick_query().counted(client, sno, key)

    def body(self, counted: Counted, sno: int, language: Language) -> bytes:
        """The page's bytes: cached, or rendered and cached. ShipmentNotFound,
        StorageUnavailable."""
        if counted.unknown:
            raise ShipmentNotFound(sno)
        if counted.body is not None:
            return counted.body
        return self._container.tracking().uncached(
            sno,
            page_key(sno, language),
            lambda shipment: self.renderer.tracking(shipment, language).encode(),
            negative_checked=True,
        )

    def page(self, client: str, sno: int, language: Language) -> Response:
        """The whole answer to `GET /track/<sno>`: the page, or the page of its error."""
        limits: Headers = []
        try:
            counted = self.counted(client, sno, language)
            limits = rate_limit_headers(counted.allowance)
            body = self.body(counted, sno, language)
        except Exception as error:
            return self.problem(error, language, value=str(sno), extra=limits)
        return html_response(body, 200, language, limits)

    def problem(
        self,
        error: Exception,
        language: Language,
        value: str = "",
        extra: Sequence[tuple[str, str]] = (),
        sentence: str | None = None,
    ) -> Response:
        """The HTML page of an error, with the search form (holding `value`) to try again;
        `sentence` in place of the one the error's kind has."""
        text = WORDINGS[language].text
        headers = list(extra)
        if isinstance(error, InvalidInput):
            shown = value if len(value) <= _SHOWN_INPUT else value[:_SHOWN_INPUT] + "…"
            said = text["bad_sno"].format(raw=shown) if value else text["empty_sno"]
            code, title = 400, "bad_title"
        elif isinstance(error, ShipmentNotFound):
            code, title, said = 404, "not_found_title", text["not_found"].format(sno=error.sno)
        elif isinstance(error, RateLimited):
            code, title = 429, "too_many_title"
            said = text["too_many"].format(seconds=error.retry_after)
            headers = [
                ("Retry-After", str(error.retry_after)),
                *rate_limit_headers(Allowance(error.limit, 0, error.retry_after)),
            ]
        elif isinstance(error, StorageUnavailable):
            log.error("page failed: %s", error, exc_info=error)
            code, title, said = 503, "unavailable_title", text["unavailable"]
        else:
            if not isinstance(error, DomainError):
                log.exception("unexpected error on a page", exc_info=error)
            else:
                log.error("page failed: %s", error, exc_info=error)
            code, title, said = 500, "broken_title", text["broken"]
        body = self.renderer.problem(language, title, sentence or said, value=value)
        return html_response(body, code, language, headers)
