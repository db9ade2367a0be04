"""mysqlclient's DATETIME values, parsed by `datetime.fromisoformat` (mysql_datetime)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import mysql_datetime
from tests.services import mysqlclient_problem, require


@pytest.fixture(scope="module")
def parse() -> Callable[[str], object]:
    require("mysqlclient", mysqlclient_problem())
    return mysql_datetime


def as_mariadb_sends(value: datetime, digits: int) -> str:
    """DATETIME(digits) as MariaDB puts it on the wire: no fraction for DATETIME(0)."""
    whole = value.strftime("%Y-%m-%d %H:%M:%S")
    return whole if digits == 0 else f"{whole}.{value.microsecond:06d}"[: len(whole) + 1 + digits]


@given(
    value=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    digits=st.integers(min_value=0, max_value=6),
)
def test_it_answers_what_mysqlclient_answers(
    parse: Callable[[str], object], value: datetime, digits: int
) -> None:
    from MySQLdb.times import DateTime_or_None

    sent = as_mariadb_sends(value, digits)
    assert parse(sent) == DateTime_or_None(sent)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("0000-00-00 00:00:00", None),  # a zero date: mysqlclient answers None
        ("2026-11-31 10:00:00", None),  # no such day
        ("2026-11-20", date(2026, 11, 20)),  # a bare date stays a date
    ],
)
def test_what_fromisoformat_refuses_goes_to_mysqlclients_parser(
    parse: Callable[[str], object], sent: str, expected: object
) -> None:
    assert parse(sent) == expected


@pytest.mark.mariadb
def test_the_engine_reads_datetimes_through_it(mysqlclient_engine: Engine) -> None:
    with mysqlclient_engine.connect() as connection:
        with_fraction, whole = connection.execute(
            text(
                "SELECT CAST('2026-11-20 10:11:12.000500' AS DATETIME(6)),"
                " CAST('2026-11-20 10:11:12' AS DATETIME)"
            )
        ).one()
    assert with_fraction == datetime(2026, 11, 20, 10, 11, 12, 500)
    assert whole == datetime(2026, 11, 20, 10, 11, 12)
    from MySQLdb.constants import FIELD_TYPE

    raw = mysqlclient_engine.raw_connection()
    try:
        converter = raw.driver_connection.converter[FIELD_TYPE.DATETIME]  # type: ignore[union-attr]
    finally:
        raw.close()
    assert converter is mysql_datetime
