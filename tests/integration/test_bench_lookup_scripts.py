"""The bench's lookup scripts against a real `logistic serve`, a second each with one
connection: every request is one the service answers as the figures assume (a 304 for
not_modified.lua, a 200 of 50 found snos for batch.lua)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bench.load import wrk
from bench.lookups import BATCH, etag_of, warm_batch

from tests.integration.servers import running_service
from tests.services import require

ORDERS = 100


@pytest.fixture(autouse=True)
def _wrk_installed() -> None:
    problem = None if shutil.which("wrk") else "not installed (apt-get install wrk; .ci/run does)"
    require("wrk, the bench's driver,", problem)


def test_the_poller_and_the_batches_get_what_the_figures_count(tmp_path: Path) -> None:
    with running_service({}, tmp_path) as service:
        assert service.get(f"/fake?num={ORDERS}").status == 200
        tag = etag_of(service.port, 1)
        warm_batch(service.port)

        polled = wrk(service.url, "not_modified.lua", ["1", tag], 1, 1)
        hits = wrk(service.url, "batch.lua", ["hit", str(ORDERS), str(BATCH)], 1, 1)
        misses = wrk(service.url, "batch.lua", ["miss", str(ORDERS), str(BATCH)], 1, 1)

        for run in (polled, hits, misses):
            assert run.rps > 0
            assert run.errors == 0
        again = service.request("GET", "/query?sno=1", {"If-None-Match": tag})
        assert again.status == 304
        batch = service.request(
            "POST", "/query", {"Content-Type": "application/json"},
            json.dumps({"snos": list(range(1, BATCH + 1))}).encode(),
        )  # fmt: skip
        assert [item["sno"] for item in batch.json()["data"]] == [
            str(sno) for sno in range(1, BATCH + 1)
        ]
