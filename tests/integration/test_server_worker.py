"""What each granian worker sets up when it loads the app."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


def test_a_workers_threads_asking_at_its_first_requests_share_one_of_each(
    tmp_path: Path,
) -> None:
    settings = Settings.from_environ({"LOGISTIC_HOME": str(tmp_path)})
    container = Server(settings).load().extensions["logistic"]
    start = threading.Barrier(6)

    def first_requests(_: int) -> tuple[int, ...]:
        start.wait()
        return tuple(
            id(provided())
            for provided in (
                container.engine,
                container.redis,
                container.tracking,
                container.throttle,
                container.fake_orders,
                container.recording,
            )
        )

    try:
        with ThreadPoolExecutor(6) as pool:
            assert len(set(pool.map(first_requests, range(6)))) == 1
    finally:
        container.shutdown_resources()
