"""The tracking pages as HTML: each page's content worked out, then written by its template."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from logistic.domain.estimate import estimated_delivery
from logistic.domain.language import Language
from logistic.domain.model import Location, Shipment
from logistic.domain.privacy import anonymized
from logistic.domain.progress import SETBACKS, Reached, rail
from logistic.domain.status import Status
from logistic.entrypoints.http.assets import Assets
from logistic.entrypoints.http.wording import WORDINGS, Wording
from logistic.services.locations import Locations

HTML = "text/html; charset=utf-8"
# Sent with every page: nothing but this origin's own stylesheet, script and requests.
SECURITY_HEADERS = (
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
_STEP_TEXT = {
    Reached.DONE: "step_done",
    Reached.CURRENT: "step_current",
    Reached.AHEAD: "step_ahead",
}


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("logistic.entrypoints.http", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class PageRenderer:
    """Writes every page in the language asked; a tracking page shows the recipient masked
    unless `disclosed` (then it must never be cached)."""

    def __init__(
        self,
        templates: jinja2.Environment,
        assets: Assets,
        locations: Locations,
        zone: ZoneInfo,
        refresh: timedelta,
    ) -> None:
        self._templates = templates
        self._assets = assets
        self._locations = locations
        self._zone = zone
        self._refresh = int(refresh.total_seconds())

    def tracking(
        self,
        shipment: Shipment,
        language: Language,
        disclosed: bool = False,
        notice: str | None = None,
    ) -> str:
        words = WORDINGS[language]
        shown = shipment if disclosed else anonymized(shipment)
        status = shipment.current_status
        locations: Mapping[int, Location] = self._locations.by_id()
        place = locations.get(shipment.current_location_id or 0)
        terminal = status is not None and status.is_terminal
        last = shipment.events[-1] if shipment.events else None
        content = {
            "sno": shipment.sno,
            "status": status.value if status else "",
            "status_name": words.statuses[status] if status else words.text["no_events"],
            "explanation": words.explanations[status] if status else "",
            "setback": status in SETBACKS,
            "rail": self._rail(shipment, words),
            "estimate": self._estimate(shipment, words),
            "estimate_iso": estimated_delivery(shipment, self._zone).isoformat(),
            "place": place,
            "history": self._history(shipment, words, locations),
            "recipient": shown.recipient,
            "disclosed": disclosed,
            "notice": notice,
            "refresh": 0 if terminal or disclosed else self._refresh,
            "events": len(shipment.events),
            "last_event": "" if last is None or last.id is None else last.id,
            "zone": self._zone.key,
        }
        title = f"{words.text['order'].format(sno=shipment.sno)} · {content['status_name']}"
        return self._page("track.html", words, title, **content)

    def search(self, language: Language, value: str = "", notice: str | None = None) -> str:
        words = WORDINGS[language]
        return self._page(
            "search.html", words, words.text["search_title"], value=value, notice=notice
        )

    def problem(self, language: Language, title: str, sentence: str, value: str = "") -> str:
        """An error page: `title` names one of the wording's texts, `sentence` says what
        happened and what to do; the search form follows, holding `value`."""
        words = WORDINGS[language]
        return self._page(
            "problem.html", words, words.text[title], heading=words.text[title],
            sentence=sentence, value=value,
        )  # fmt: skip

    def page(self, template: str, language: Language, title: str, **content: Any) -> str:
        """Any page of `template` (which extends base.html) in `language`."""
        return self._page(template, WORDINGS[language], title, **content)

    def _page(self, template: str, words: Wording, title: str, **content: Any) -> str:
        other = Language.EN if words.language is Language.ZH_HANT else Language.ZH_HANT
        return self._templates.get_template(template).render(
            t=words.text,
            lang=words.language.value,
            other_lang=other.value,
            title=title,
            css=self._assets.url("page.css"),
            js=self._assets.url("page.js"),
            **content,
        )

    def _rail(self, shipment: Shipment, words: Wording) -> list[dict[str, Any]]:
        drawn = rail(shipment.statuses)
        current = drawn.current
        return [
            {
                "name": words.statuses[step.status],
                "reached": step.reached.value,
                "state": words.text[_STEP_TEXT[step.reached]],
                "setback": (
                    words.statuses[drawn.setback]
                    if drawn.setback is not None
                    and step is current
                    and drawn.setback is not step.status
                    else ""
                ),
                "returned": step.status is Status.RETURNED_TO_SENDER,
            }
            for step in drawn.steps
        ]

    def _history(
        self, shipment: Shipment, words: Wording, locations: Mapping[int, Location]
    ) -> list[dict[str, Any]]:
        """Every event, newest first, at its local time and place."""
        history = []
        for event in reversed(shipment.events):
            local = event.occurred_at.astimezone(self._zone)
            place = locations.get(event.location_id)
            history.append(
                {
                    "iso": local.isoformat(timespec="seconds"),
                    "when": words.moment(local),
                    "status": words.statuses[event.status],
                    "setback": event.status in SETBACKS,
                    "place": place.title if place else "",
                }
            )
        return history

    def _estimate(self, shipment: Shipment, words: Wording) -> str:
        day = words.day(estimated_delivery(shipment, self._zone))
        status = shipment.current_status
        if status is Status.DELIVERED:
            return words.text["delivered_on"].format(day=day)
        if status is Status.RETURNED_TO_SENDER:
            return words.text["was_due"].format(day=day)
        if status is Status.EXCEPTION:
            return words.text["due_late"].format(day=day)
        return words.text["arrives"].format(day=day)
