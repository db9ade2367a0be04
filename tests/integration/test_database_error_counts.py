"""Driver errors counted by kind on an engine (adapters/sql/error_counts.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.error_counts import count_errors
from logistic.services.metering import DATABASE_ERRORS, Meter
from tests.services import free_port


def test_a_failing_statement_is_an_other_error(tmp_path: Path) -> None:
    meter = Meter()
    engine = count_errors(create_engine(f"sqlite:///{tmp_path / 'errors.db'}"), meter)
    try:
        with pytest.raises(Exception, match="no such table"), engine.connect() as connection:
            connection.execute(text("SELECT * FROM nowhere"))
    finally:
        engine.dispose()

    assert meter.reading().values == {(DATABASE_ERRORS, ("other",)): 1}


def test_a_server_that_does_not_answer_is_a_disconnect() -> None:
    meter = Meter()
    url = f"mysql+pymysql://root@127.0.0.1:{free_port()}/nothing"
    engine = count_errors(create_engine(url), meter)
    try:
        with pytest.raises(Exception, match="Can't connect"), engine.connect():
            pass
    finally:
        engine.dispose()

    assert meter.reading().values == {(DATABASE_ERRORS, ("disconnect",)): 1}
