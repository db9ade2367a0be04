"""GET /reports: the published slots of a day, and each slot's report as JSON or CSV."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, Response, request, url_for

from logistic.domain.errors import InvalidInput
from logistic.domain.report_slot import ReportSlot
from logistic.entrypoints.http.views import container, json_response
from logistic.services.rendering import to_json_bytes
from logistic.services.reports import CSV

reports = Blueprint("reports", __name__)

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(zone: str) -> date:
    values = request.args.getlist("date")
    if len(values) > 1:
        raise InvalidInput(f"date was given {len(values)} times; give it once")
    if not values:
        return ReportSlot.at(container().clock().now(), zone).day
    raw = values[0]
    if _DAY.fullmatch(raw) is None:
        raise InvalidInput(f"date looks like 2026-11-25, not {raw[:40]!r}")
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise InvalidInput(f"no such date {raw}") from error


def _listed(slot: ReportSlot) -> dict[str, str]:
    return {
        "slot": slot.name,
        "starts_at": slot.starts_at.isoformat(),
        "json": url_for("reports.report", name=slot.name),
        "csv": url_for("reports.report", name=f"{slot.name}.csv"),
    }


@reports.get("/reports")
def published() -> Response:
    service = container().reports()
    day = _day(service.zone)
    document = {
        "status": "ok",
        "data": {
            "date": day.isoformat(),
            "timezone": service.zone,
            "reports": [_listed(slot) for slot in service.slots_on(day)],
        },
        "error": None,
    }
    return json_response(to_json_bytes(document))


@reports.get("/reports/<name>")
def report(name: str) -> Response:
    service = container().reports()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, "json"
    if extension == "csv":
        return Response(service.csv(service.slot(stem)), content_type=CSV)
    if extension == "json":
        return json_response(service.json(service.slot(stem)))
    raise InvalidInput(f"reports are served as .json or .csv, not .{extension[:20]}")
