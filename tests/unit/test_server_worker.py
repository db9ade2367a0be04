"""What each granian worker sets up when it loads the app."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from logistic.entrypoints.server import SWITCH_INTERVAL_S, Server
from logistic.settings import Settings


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_interval")
def test_a_worker_hands_the_gil_on_within_a_millisecond(tmp_path: Path) -> None:
    sys.setswitchinterval(0.005)  # CPython's default
    settings = Settings.from_environ({"LOGISTIC_HOME": str(tmp_path)})

    app = Server(settings).load()

    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_S) == 0.001
    assert app.test_client().get("/healthz").status_code == 200
