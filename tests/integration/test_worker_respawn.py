"""A granian worker killed with SIGKILL: the other keeps serving and a new one takes its place."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.integration.servers import ServiceProcess, running_service
from tests.services import own_database


def worker_pids(service: ServiceProcess) -> set[int]:
    """The processes whose parent is the server's main process."""
    assert service.pid is not None
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == service.pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether `pid` runs (exists and has not exited, not even as a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _answered(service: ServiceProcess) -> bool:
    try:
        return service.request("GET", "/healthz", timeout=2).status == 200
    except OSError:
        return False


@pytest.mark.mariadb
@pytest.mark.slow
def test_a_killed_worker_is_replaced_while_the_other_serves(
    mariadb_url: str, tmp_path: Path
) -> None:
    with (
        own_database("respawn") as url,
        running_service(
            {"LOGISTIC_DATABASE_URL": url, "LOGISTIC_WORKERS": "2"}, tmp_path
        ) as service,
    ):
        deadline = time.monotonic() + 10
        while service.log().count("Started worker") < 2:
            assert time.monotonic() < deadline, service.log()
            time.sleep(0.1)
        before = worker_pids(service)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        answers = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answers.append(_answered(service))
            now = worker_pids(service)
            if len(now) == 2 and victim not in now and len(answers) > 20:
                break
            time.sleep(0.05)
        after = worker_pids(service)
        assert service.pid is not None
        assert _running(service.pid), service.log()
        # Only a connection the dying worker had accepted may be lost.
        assert answers.count(False) <= 1, answers
        assert victim not in after, (before, after, service.log())
        assert len(after) == 2, (before, after, service.log())
        assert all(_answered(service) for _ in range(20))
