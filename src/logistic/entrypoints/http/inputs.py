"""Turning query-string text into values, with one clear message per bad input."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from logistic.domain.errors import InvalidInput

_DIGITS = re.compile(r"[0-9]+")
MAX_SNO = 2**63 - 1  # the orders table's BIGINT
_MAX_DIGITS = 19


def _single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"{name} was given {len(values)} times; give it once")
    return values[0] if values else None


def _whole_number(raw: str, name: str) -> int:
    if len(raw) > _MAX_DIGITS or _DIGITS.fullmatch(raw) is None:
        shown = raw if len(raw) <= 20 else raw[:20] + "..."
        raise InvalidInput(f"{name} must be a whole number written with the digits 0-9: {shown!r}")
    return int(raw)


def parse_sno(args: MultiDict[str, str]) -> int:
    raw = _single(args, "sno")
    if raw is None or raw == "":
        raise InvalidInput("sno is required, e.g. /query?sno=3")
    sno = _whole_number(raw, "sno")
    if not 1 <= sno <= MAX_SNO:
        raise InvalidInput(f"sno must be between 1 and {MAX_SNO}")
    return sno


def sno_from_path(raw: str) -> int:
    sno = _whole_number(raw, "sno")
    if not 1 <= sno <= MAX_SNO:
        raise InvalidInput(f"sno must be between 1 and {MAX_SNO}")
    return sno


def parse_num(args: MultiDict[str, str], default: int) -> int:
    raw = _single(args, "num")
    if raw is None:
        return default
    num = _whole_number(raw, "num")
    if num < 1:
        raise InvalidInput("num must be at least 1")
    return num
