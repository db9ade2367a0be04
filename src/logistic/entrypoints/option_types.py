"""The values the `logistic` command's options take, each refused in one line that says why."""

from __future__ import annotations

import math
from datetime import date, datetime

import click


class WholeNumber(click.ParamType[int]):
    """Digits only (no sign, no spaces), at least `least`."""

    name = "integer"

    def __init__(self, least: int) -> None:
        self.least = least

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            number = value  # a default, already a number
        else:
            text = str(value)
            if not text.isascii() or not text.isdigit():
                self.fail(f"a whole number is needed, not {text!r}", param, ctx)
            number = int(text)
        if number < self.least:
            self.fail(f"at least {self.least} is needed, not {str(value)!r}", param, ctx)
        return number


class ClockSpeed(click.ParamType[float]):
    """How many times as fast as real time a clock runs: above 0, below a million."""

    name = "speed"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            speed = float(value) if isinstance(value, str | int | float) else math.nan
        except ValueError:
            speed = math.nan
        if not 0 < speed < 1e6:
            self.fail(f"a clock speed is a number above 0, not {str(value)!r}", param, ctx)
        return speed


class Instant(click.ParamType[datetime]):
    """An ISO 8601 date and time with its offset from UTC."""

    name = "instant"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            instant = value
        else:
            try:
                instant = datetime.fromisoformat(str(value))
            except ValueError:
                self.fail(f"not an ISO 8601 instant: {str(value)!r}", param, ctx)
        if instant.tzinfo is None:
            self.fail(f"give the instant an offset, e.g. {value}+08:00", param, ctx)
        return instant


class DayOrInstant(click.ParamType[date | datetime]):
    """A day (YYYY-MM-DD: its start, in the service's zone) or an instant with its offset."""

    name = "date"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> date | datetime:
        if isinstance(value, date):
            return value
        text = str(value)
        try:
            if len(text) == len("2026-12-06"):
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"not a date (YYYY-MM-DD) nor an ISO 8601 instant: {text!r}", param, ctx)
        if moment.tzinfo is None:
            self.fail(f"give the instant an offset, e.g. {text}+08:00", param, ctx)
        return moment
