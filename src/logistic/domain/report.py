"""Status reports: the three daily slots, the figures of a snapshot, and how a report is rendered.

A report belongs to a slot, 00:00, 08:00 or 16:00 on the wall clock of the report
time zone. Its object-store keys follow from the slot alone
(`reports/2026/11/25/0800.json`), so producing a slot twice writes the same key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, field, frozen

from logistic.domain.errors import InvalidInput
from logistic.domain.status import Status

SLOT_HOURS: tuple[int, ...] = (0, 8, 16)
REPORTS_PREFIX = "reports/"

_SLOT_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):?([0-9]{2})")
_SLOT_KEY = re.compile(r"reports/([0-9]{4})/([0-9]{2})/([0-9]{2})/([0-9]{2})([0-9]{2})\.[a-z0-9]+")
_EXTENSION = re.compile(r"[a-z0-9]+")


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone called `name`; InvalidInput when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(f"unknown time zone {name!r}") from error


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("instants must carry a time zone")
    return instant.astimezone(UTC)


def _must_be_a_day(_: object, __: object, value: date) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(f"a report slot needs a date, not {value!r}")


def _must_be_a_slot_hour(_: object, __: object, value: int) -> None:
    if value not in SLOT_HOURS:
        raise InvalidInput(f"reports are made at hours {SLOT_HOURS}, not at {value}")


def _must_be_a_zone(_: object, __: object, value: str) -> None:
    time_zone(value)


def _day(year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as error:
        raise InvalidInput(f"no such date {year}-{month}-{day}") from error


@frozen(order=True)
class ReportSlot:
    """One of the three daily report times: `hour` o'clock on `day`, on the wall clock of `zone`."""

    day: date = field(validator=_must_be_a_day)
    hour: int = field(validator=_must_be_a_slot_hour)
    zone: str = field(validator=_must_be_a_zone)

    @classmethod
    def at(cls, instant: datetime, zone: str) -> ReportSlot:
        """The latest slot that starts at or before `instant`."""
        moment = _utc(instant)
        local = moment.astimezone(time_zone(zone))
        slot = cls(local.date(), local.hour - local.hour % 8, zone)
        # Around a daylight-saving change the wall clock can be an hour off the
        # slot boundaries; settle on the instants themselves.
        while slot.starts_at_utc > moment:
            slot = slot.previous()
        while slot.next().starts_at_utc <= moment:
            slot = slot.next()
        return slot

    @classmethod
    def parse(cls, text: str, zone: str) -> ReportSlot:
        """The slot written `2026-11-25T0800` or `2026-11-25T08:00`; InvalidInput otherwise."""
        match = _SLOT_TEXT.fullmatch(text)
        if match is None:
            raise InvalidInput(f"a report slot looks like 2026-11-25T0800, not {text!r}")
        year, month, day, hour, minute = match.groups()
        if minute != "00":
            raise InvalidInput(f"reports are made on the hour, not at {hour}:{minute}")
        return cls(_day(year, month, day), int(hour), zone)

    @classmethod
    def from_key(cls, key: str, zone: str) -> ReportSlot:
        """The slot whose report is stored at `key` (any extension); InvalidInput otherwise."""
        match = _SLOT_KEY.fullmatch(key)
        if match is None or match.group(5) != "00":
            raise InvalidInput(f"{key!r} is not the key of a report")
        year, month, day, hour, _ = match.groups()
        return cls(_day(year, month, day), int(hour), zone)

    @staticmethod
    def day_prefix(day: date) -> str:
        """The key prefix under which the reports of local day `day` are stored."""
        return f"{REPORTS_PREFIX}{day.year:04d}/{day.month:02d}/{day.day:02d}/"

    @property
    def name(self) -> str:
        """The slot as written in URLs and by `parse`: `2026-11-25T0800`."""
        return f"{self.day.isoformat()}T{self.hour:02d}00"

    @property
    def starts_at(self) -> datetime:
        """The instant the slot begins, in the slot's time zone."""
        return datetime.combine(self.day, time(self.hour), tzinfo=time_zone(self.zone))

    @property
    def starts_at_utc(self) -> datetime:
        # Compare in UTC: Python compares two datetimes sharing one tzinfo by
        # their wall clocks, which is wrong across a daylight-saving change.
        return self.starts_at.astimezone(UTC)

    def next(self) -> ReportSlot:
        if self.hour == SLOT_HOURS[-1]:
            return evolve(self, day=self.day + timedelta(days=1), hour=SLOT_HOURS[0])
        return evolve(self, hour=self.hour + 8)

    def previous(self) -> ReportSlot:
        if self.hour == SLOT_HOURS[0]:
            return evolve(self, day=self.day - timedelta(days=1), hour=SLOT_HOURS[-1])
        return evolve(self, hour=self.hour - 8)

    def key(self, extension: str) -> str:
        """Where this slot's report is stored: `reports/2026/11/25/0800.json` for "json"."""
        if _EXTENSION.fullmatch(extension) is None:
            raise InvalidInput(
                f"a report extension is lowercase letters and digits, not {extension!r}"
            )
        return f"{self.day_prefix(self.day)}{self.hour:02d}00.{extension}"


def slots_between(start: datetime, end: datetime, zone: str) -> tuple[ReportSlot, ...]:
    """The slots that start at or after `start` and before `end`, oldest first."""
    first, last = _utc(start), _utc(end)
    slot = ReportSlot.at(first, zone)
    if slot.starts_at_utc < first:
        slot = slot.next()
    slots = []
    while slot.starts_at_utc < last:
        slots.append(slot)
        slot = slot.next()
    return tuple(slots)


def due_slots(now: datetime, grace: timedelta, zone: str) -> tuple[ReportSlot, ...]:
    """The slots that started at most `grace` before `now` (both ends included), oldest first.

    The current slot is the last one; a scheduler produces any of them whose report is missing.
    """
    if grace < timedelta(0):
        raise InvalidInput("the catch-up grace window cannot be negative")
    moment = _utc(now)
    earliest = moment - grace
    slot = ReportSlot.at(moment, zone)
    due = []
    while slot.starts_at_utc >= earliest:
        due.append(slot)
        slot = slot.previous()
    return tuple(reversed(due))


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
    _utc(value)


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
