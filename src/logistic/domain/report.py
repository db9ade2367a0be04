"""Status reports: the figures of a snapshot, and how the report of a slot is rendered."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from attrs import field, frozen

from logistic.domain.errors import InvalidInput
from logistic.domain.report_slot import ReportSlot, in_utc, time_zone
from logistic.domain.status import Status


def _must_not_be_negative(_: object, attribute: Any, value: int) -> None:
    if value < 0:
        raise InvalidInput(f"{attribute.name} cannot be negative ({value})")


def _must_be_hours(_: object, attribute: Any, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise InvalidInput(f"{attribute.name} must be a finite number of hours, not {value}")


def _must_be_a_rate(_: object, attribute: Any, value: float | None) -> None:
    if value is not None and not 0 <= value <= 1:
        raise InvalidInput(f"{attribute.name} must lie between 0 and 1, not {value}")


def _every_status(
    counts: Mapping[Status, int] | Mapping[str, int] | Iterable[tuple[str, int]],
) -> tuple[tuple[Status, int], ...]:
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    given: dict[Status, int] = {}
    for name, count in pairs:
        try:
            status = Status(name)
        except ValueError as error:
            raise InvalidInput(f"{name!r} is not a status") from error
        if status in given:
            raise InvalidInput(f"{status} is counted twice")
        if count < 0:
            raise InvalidInput(f"the count of {status} cannot be negative ({count})")
        given[status] = count
    return tuple((status, given.get(status, 0)) for status in Status)


@frozen
class LocationCount:
    """How many orders are currently at one logistics center."""

    location_id: int
    title: str
    count: int = field(validator=_must_not_be_negative)


def _by_id(counts: Iterable[LocationCount]) -> tuple[LocationCount, ...]:
    return tuple(sorted(counts, key=lambda count: count.location_id))


@frozen
class StuckShipments:
    """Orders not yet delivered or returned that have had no event for `threshold_hours`."""

    count: int = field(validator=_must_not_be_negative)
    threshold_hours: int = field(validator=_must_not_be_negative)


@frozen
class ReportFigures:
    """The numbers of one snapshot of all orders.

    `tracking_summary` counts orders by current status, every status present in
    lifecycle order (a mapping or pairs are accepted and completed with zeros).
    Transit times run from creation to delivery, over delivered orders; the
    median and 90th percentile interpolate between ranks (SQL's PERCENTILE_CONT),
    None when nothing was delivered. `on_time_rate` is the share of delivered
    orders delivered before their promise ended (`delivered_at < promised_by`).
    """

    tracking_summary: tuple[tuple[Status, int], ...] = field(converter=_every_status)
    total_orders: int = field(validator=_must_not_be_negative)
    by_location: tuple[LocationCount, ...] = field(converter=_by_id)
    stuck: StuckShipments
    delivered_last_8h: int = field(validator=_must_not_be_negative)
    transit_hours_median: float | None = field(validator=_must_be_hours)
    transit_hours_p90: float | None = field(validator=_must_be_hours)
    on_time_rate: float | None = field(validator=_must_be_a_rate)

    def count_of(self, status: Status) -> int:
        return dict(self.tracking_summary)[status]

    @property
    def exceptions(self) -> int:
        """Orders whose current status is Exception (taken from the summary so both agree)."""
        return self.count_of(Status.EXCEPTION)


def _must_be_aware(_: object, __: object, value: datetime) -> None:
    in_utc(value)


@frozen
class Report:
    """The figures of one slot, as generated at `generated_at`."""

    slot: ReportSlot
    generated_at: datetime = field(validator=_must_be_aware)
    figures: ReportFigures

    @property
    def timezone(self) -> str:
        return self.slot.zone

    def to_dict(self) -> dict[str, Any]:
        """The JSON document; `trackingSummary` keeps the name the original report used."""
        figures = self.figures
        return {
            "slot": self.slot.starts_at.isoformat(),
            "generated_at": self._generated_at(),
            "timezone": self.timezone,
            "trackingSummary": {status.value: count for status, count in figures.tracking_summary},
            "total_orders": figures.total_orders,
            "exceptions": figures.exceptions,
            "stuck": {
                "count": figures.stuck.count,
                "threshold_hours": figures.stuck.threshold_hours,
            },
            "delivered_last_8h": figures.delivered_last_8h,
            "transit_hours": {
                "median": figures.transit_hours_median,
                "p90": figures.transit_hours_p90,
            },
            "on_time_rate": figures.on_time_rate,
            "by_location": [
                {"id": count.location_id, "title": count.title, "count": count.count}
                for count in figures.by_location
            ],
        }

    def to_json_bytes(self) -> bytes:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
        return f"{text}\n".encode()

    def to_csv_bytes(self) -> bytes:
        """Rows of metric,key,value (UTF-8, a header first, empty value for no value)."""
        figures = self.figures
        rows: list[tuple[str, str, object]] = [
            ("slot", "", self.slot.starts_at.isoformat()),
            ("generated_at", "", self._generated_at()),
            ("timezone", "", self.timezone),
            *(("trackingSummary", status.value, n) for status, n in figures.tracking_summary),
            ("total_orders", "", figures.total_orders),
            ("exceptions", "", figures.exceptions),
            ("stuck", "count", figures.stuck.count),
            ("stuck", "threshold_hours", figures.stuck.threshold_hours),
            ("delivered_last_8h", "", figures.delivered_last_8h),
            ("transit_hours", "median", figures.transit_hours_median),
            ("transit_hours", "p90", figures.transit_hours_p90),
            ("on_time_rate", "", figures.on_time_rate),
            *(("by_location", count.title, count.count) for count in figures.by_location),
        ]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(("metric", "key", "value"))
        writer.writerows(
            (metric, key, "" if value is None else value) for metric, key, value in rows
        )
        return out.getvalue().encode()

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the JSON body."""
        return hashlib.sha256(self.to_json_bytes()).hexdigest()

    def metadata(self) -> dict[str, str]:
        """What to store beside the JSON object (plain ASCII, as object stores require)."""
        return {
            "slot": self.slot.name,
            "generated-at": self._generated_at(),
            "timezone": self.timezone,
            "sha256": self.sha256,
        }

    def _generated_at(self) -> str:
        local = self.generated_at.astimezone(time_zone(self.timezone))
        return local.isoformat(timespec="seconds")

    @classmethod
    def from_json_bytes(cls, body: bytes) -> Report:
        """The report `to_json_bytes` wrote; InvalidInput when `body` is not one."""
        try:
            document = json.loads(body)
            zone = document["timezone"]
            starts_at = datetime.fromisoformat(document["slot"])
            slot = ReportSlot.at(starts_at, zone)
            if slot.starts_at_utc != in_utc(starts_at):
                raise InvalidInput(f"{document['slot']} is not the start of a report slot")
            figures = ReportFigures(
                tracking_summary=document["trackingSummary"],
                total_orders=document["total_orders"],
                by_location=[
                    LocationCount(row["id"], row["title"], row["count"])
                    for row in document["by_location"]
                ],
                stuck=StuckShipments(
                    document["stuck"]["count"], document["stuck"]["threshold_hours"]
                ),
                delivered_last_8h=document["delivered_last_8h"],
                transit_hours_median=document["transit_hours"]["median"],
                transit_hours_p90=document["transit_hours"]["p90"],
                on_time_rate=document["on_time_rate"],
            )
            return cls(slot, datetime.fromisoformat(document["generated_at"]), figures)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise InvalidInput(f"not a report: {error}") from error
