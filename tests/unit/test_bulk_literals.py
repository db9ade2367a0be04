"""The MariaDB bulk insert writes statuses and timestamps without the driver's escape:
neither can ever hold a character that would need one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.adapters.sql.literals import SAFE_TEXT, STATUS_LITERALS, trusted_literal
from logistic.adapters.sql.snapshot import stored_time
from logistic.domain.status import Status


def test_every_status_is_quoted_as_it_is() -> None:
    for status in Status:
        assert SAFE_TEXT.fullmatch(status.value)
        assert STATUS_LITERALS[status] == f"'{status.value}'"


@pytest.mark.parametrize("text", ["O'Brien", "a\\'", 'say "hi"', "tab\there", "王", "100%"])
def test_text_that_needs_escaping_is_never_trusted(text: str) -> None:
    with pytest.raises(ValueError, match="not safe"):
        trusted_literal(text)


@given(at=st.datetimes(timezones=st.just(UTC)))
def test_a_stored_instant_is_safe_text_in_sqlalchemys_format(at: datetime) -> None:
    text = stored_time(at)

    assert SAFE_TEXT.fullmatch(text)
    assert text == at.replace(tzinfo=None).isoformat(" ", "microseconds")


def test_an_instant_outside_utc_is_refused() -> None:
    taipei = datetime(2026, 3, 14, 9, 26, tzinfo=timezone(timedelta(hours=8)))
    with pytest.raises(ValueError, match="not a UTC instant"):
        stored_time(taipei)
