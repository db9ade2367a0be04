"""What each granian worker sets up when it loads the app."""

from __future__ import annotations

import gc
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from logistic.entrypoints.server import Server
from logistic.settings import Settings

CPYTHON_SWITCH_INTERVAL_S = 0.005
# Half CPython's interval: a thread that waits a whole one for the GIL is over it.
BAR_MS = 2.5
# Another process that answers each byte 1 ms later (a query's time, while the worker's
# other thread holds the GIL), with the time of its answer: time.monotonic is one
# clock for every process on Linux.
PEER = """
import socket, struct, sys, time
peer = socket.socket(fileno=int(sys.argv[1]))
while peer.recv(1):
    time.sleep(0.001)
    peer.sendall(struct.pack("d", time.monotonic()))
"""


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """The objects `load` leaves to no collection are this test process's: given back."""
    yield
    gc.unfreeze()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Callable[[], Flask]]:
    """Loads the app as a granian worker does; afterwards stops the metrics thread it
    started (it would go on writing into later tests) and its container's resources."""
    loaded: list[Flask] = []

    def load() -> Flask:
        loaded.append(Server(Settings.from_environ({"LOGISTIC_HOME": str(tmp_path)})).load())
        return loaded[-1]

    yield load
    for app in loaded:
        container = app.extensions["logistic"]
        container.metrics_publisher().stop()
        container.shutdown_resources()


@pytest.fixture
def switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


def _spin(stop: threading.Event) -> None:
    while not stop.is_set():
        pass


def _reply_wait_ms(rounds: int = 50) -> float:
    """The median milliseconds from another process's answer leaving it to this thread
    running again, while a sibling thread runs pure Python: a worker's thread back from
    Redis or the database beside one busy with a request."""
    ours, theirs = socket.socketpair()
    peer = subprocess.Popen(
        [sys.executable, "-c", PEER, str(theirs.fileno())], pass_fds=[theirs.fileno()]
    )
    theirs.close()
    stop = threading.Event()
    sibling = threading.Thread(target=_spin, args=(stop,))
    waits = []
    try:
        sibling.start()
        for _ in range(rounds):
            ours.sendall(b"?")
            (answered_at,) = struct.unpack("d", ours.recv(8, socket.MSG_WAITALL))
            waits.append(time.monotonic() - answered_at)
    finally:
        stop.set()
        sibling.join()
        ours.close()
        peer.wait(timeout=10)
    return statistics.median(waits) * 1000


@pytest.mark.usefixtures("switch_interval")
def test_a_thread_back_from_a_reply_gets_the_gil_within_half_cpythons_default_interval(
    worker: Callable[[], Flask],
) -> None:
    sys.setswitchinterval(CPYTHON_SWITCH_INTERVAL_S)
    # The measure can tell: with CPython's interval the thread waits the whole of it.
    assert _reply_wait_ms() >= BAR_MS

    app = worker()

    # A busy machine only lengthens a wait: the shortest of a few is the interpreter's.
    waited = []
    while len(waited) < 5 and min(waited, default=BAR_MS) >= BAR_MS:
        waited.append(_reply_wait_ms())
    assert min(waited) < BAR_MS, waited
    assert app.test_client().get("/healthz").status_code == 200


def test_a_workers_threads_asking_at_its_first_requests_share_one_of_each(
    worker: Callable[[], Flask],
) -> None:
    container = worker().extensions["logistic"]
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

    with ThreadPoolExecutor(6) as pool:
        assert len(set(pool.map(first_requests, range(6)))) == 1


def test_what_a_worker_built_before_its_first_request_is_left_out_of_collections(
    worker: Callable[[], Flask],
) -> None:
    gc.unfreeze()

    app = worker()

    # The app, its container and providers (here with the test process's objects).
    assert gc.get_freeze_count() > 10_000
    assert app.test_client().get("/healthz").status_code == 200
