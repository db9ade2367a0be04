"""The report dashboard as HTML: a report's figures, its charts and their tables, the trend
of the slots before it, and the sign-in and problem pages around them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from logistic.domain.language import Language
from logistic.domain.report import Report
from logistic.domain.report_slot import ReportSlot, time_zone
from logistic.entrypoints.http.charts import Bar, Point, bar_chart, line_chart
from logistic.entrypoints.http.dashboard_wording import DASHBOARD_TEXT
from logistic.entrypoints.http.page_renderer import PageRenderer
from logistic.entrypoints.http.wording import WORDINGS
from logistic.services.dashboard import DashboardView, TrendPoint


def slot_words(slot: ReportSlot) -> str:
    """A slot as people read it: 2026-11-25 08:00."""
    return f"{slot.day.isoformat()} {slot.hour:02d}:00"


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


class DashboardRenderer:
    """Writes the dashboard's pages with the tracking pages' frame, stylesheet and words.

    `token` is the signed-in caller's sign-out token; None when nobody is signed in (then
    no sign-out button is shown).
    """

    def __init__(self, pages: PageRenderer) -> None:
        self._pages = pages

    def dashboard(self, view: DashboardView, language: Language, token: str | None) -> str:
        d = DASHBOARD_TEXT[language]
        report = view.report
        slot = report.slot
        local = report.generated_at.astimezone(time_zone(slot.zone))
        content: dict[str, Any] = {
            "d": d,
            "token": token,
            "slot": slot.name,
            "generated": d["generated"].format(
                when=WORDINGS[language].moment(local), zone=slot.zone
            ),
            "figures": self._figures(report, d),
            "statuses": self._statuses(report, language),
            "locations": [
                Bar(count.title, count.count, str(count.count))
                for count in report.figures.by_location
            ],
            "trend": [self._trend_row(point, d) for point in view.trend],
            "previous": view.previous.name if view.previous else None,
            "next": view.next.name if view.next else None,
        }
        count = len(view.trend)
        content["status_chart"] = bar_chart("status-chart", d["status_chart"], content["statuses"])
        content["location_chart"] = bar_chart(
            "location-chart", d["location_chart"], content["locations"]
        )
        on_time = [Point(row["slot"], row["rate"], row["rate_shown"]) for row in content["trend"]]
        volume = [
            Point(row["slot"], row["orders"], row["orders_shown"]) for row in content["trend"]
        ]
        content["on_time_chart"] = line_chart(
            "on-time-chart",
            d["on_time_trend"].format(count=count),
            self._described(on_time, d),
            [Point(p.label, None if p.value is None else p.value * 100, p.shown) for p in on_time],
            top=100,
            axis="{}%",
        )
        content["volume_chart"] = line_chart(
            "volume-chart",
            d["volume_trend"].format(count=count),
            self._described(volume, d),
            volume,
        )
        title = d["heading"].format(slot=slot_words(slot))
        return self._pages.page(
            "dashboard.html", language, title, heading=title,
            switch_query=f"slot={slot.name}&", **content,
        )  # fmt: skip

    def sign_in(self, language: Language, notice: str | None, slot: str) -> str:
        """The form that asks for a key; `notice` says why the last one was refused."""
        d = DASHBOARD_TEXT[language]
        return self._pages.page(
            "dashboard_sign_in.html", language, d["sign_in_title"], d=d, notice=notice, slot=slot
        )

    def problem(
        self, language: Language, title: str, sentence: str, token: str | None, slot: str = ""
    ) -> str:
        """A page saying what went wrong (`title` names one of the dashboard's texts), with
        the way back to the latest report and the slot form (holding `slot`)."""
        d = DASHBOARD_TEXT[language]
        return self._pages.page(
            "dashboard_problem.html", language, d[title],
            d=d, heading=d[title], sentence=sentence, token=token, slot=slot,
        )  # fmt: skip

    @staticmethod
    def _figures(report: Report, d: Mapping[str, str]) -> list[dict[str, Any]]:
        figures = report.figures

        def hours(value: float | None) -> str:
            return d["nothing"] if value is None else d["hours"].format(value=f"{value:.1f}")

        rate = figures.on_time_rate
        return [
            {"id": "total", "name": d["total_orders"], "value": figures.total_orders,
             "shown": str(figures.total_orders)},
            {"id": "delivered", "name": d["delivered_8h"], "value": figures.delivered_last_8h,
             "shown": str(figures.delivered_last_8h)},
            {"id": "median", "name": d["transit_median"], "value": figures.transit_hours_median,
             "shown": hours(figures.transit_hours_median)},
            {"id": "p90", "name": d["transit_p90"], "value": figures.transit_hours_p90,
             "shown": hours(figures.transit_hours_p90)},
            {"id": "on-time", "name": d["on_time"], "value": rate,
             "shown": d["nothing"] if rate is None else percent(rate)},
            {"id": "stuck", "name": d["stuck"].format(hours=figures.stuck.threshold_hours),
             "value": figures.stuck.count, "shown": str(figures.stuck.count)},
            {"id": "exceptions", "name": d["exceptions"], "value": figures.exceptions,
             "shown": str(figures.exceptions)},
        ]  # fmt: skip

    @staticmethod
    def _statuses(report: Report, language: Language) -> list[Bar]:
        names = WORDINGS[language].statuses
        return [
            Bar(names[status], count, str(count))
            for status, count in report.figures.tracking_summary
        ]

    @staticmethod
    def _trend_row(point: TrendPoint, d: Mapping[str, str]) -> dict[str, Any]:
        report = point.report
        rate = None if report is None else report.figures.on_time_rate
        orders = None if report is None else report.figures.total_orders
        missing = d["not_published"] if report is None else d["nothing"]
        return {
            "slot": point.slot.name,
            "published": report is not None,
            "rate": rate,
            "rate_shown": missing if rate is None else percent(rate),
            "orders": orders,
            "orders_shown": missing if orders is None else str(orders),
        }

    @staticmethod
    def _described(points: list[Point], d: Mapping[str, str]) -> str:
        shown = [point for point in points if point.value is not None]
        text = d["trend_desc"].format(published=len(shown), count=len(points))
        if shown:
            text += d["trend_latest"].format(slot=shown[-1].label, value=shown[-1].shown)
        return text
