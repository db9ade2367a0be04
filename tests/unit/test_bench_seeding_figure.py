"""The bench judges seeding by the whole million it seeded, not by a median of its phases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench import run

from tests.unit.offline_bench import offline_bench


def _bench(
    tmp_path: Path, phases: list[tuple[int, float]], monkeypatch: pytest.MonkeyPatch
) -> run.Bench:
    bench = offline_bench(tmp_path)
    ticks: Iterator[float] = iter(moment for _, seconds in phases for moment in (0.0, seconds))
    added = iter(orders for orders, _ in phases)
    monkeypatch.setattr(run.time, "perf_counter", lambda: next(ticks))
    monkeypatch.setattr(
        bench, "logistic", lambda *command, env=None: f"{next(added):,} orders added; 1 stored"
    )
    return bench


def test_a_million_seeded_in_two_phases_is_judged_by_its_total_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 14.4 s then 104.4 s: the million took 118.8 s, within 120, though the mean of
    # the two phases' rates (6,944 and 8,621 orders/s) is below 8,333.
    phases = [(100_000, 14.4), (900_000, 104.4)]
    bench = _bench(tmp_path, phases, monkeypatch)
    for orders, _ in phases:
        bench.seed(orders)

    figure = bench.figures["seeding rate"]
    assert figure.values == [pytest.approx(1_000_000 / 118.8)]
    assert figure.verdict() == "yes"


def test_a_million_seeded_too_slowly_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    phases = [(100_000, 12.0), (900_000, 109.0)]
    bench = _bench(tmp_path, phases, monkeypatch)
    for orders, _ in phases:
        bench.seed(orders)

    assert bench.figures["seeding rate"].verdict() == "**no**"
