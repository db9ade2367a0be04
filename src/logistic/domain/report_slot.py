"""Report slots: the three daily report times, 00:00, 08:00 and 16:00 on the wall clock
of the report time zone, and which of them are due.

A slot's object-store keys follow from the slot alone (`reports/2026/11/25/0800.json`),
so producing a slot twice writes the same key.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from attrs import evolve, field, frozen

from logistic.domain.errors import InvalidInput

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


def in_utc(instant: datetime) -> datetime:
    """The same instant in UTC; InvalidInput when it carries no time zone."""
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
        moment = in_utc(instant)
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
    first, last = in_utc(start), in_utc(end)
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
    moment = in_utc(now)
    earliest = moment - grace
    slot = ReportSlot.at(moment, zone)
    due = []
    while slot.starts_at_utc >= earliest:
        due.append(slot)
        slot = slot.previous()
    return tuple(reversed(due))
