"""`logistic backtest-estimate` on six weeks of seeded orders (SQLite, a fixed seed): the
window holds nine times in ten and the lane estimate beats the fixed rule."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from logistic.entrypoints.cli import logistic

ORDERS = 30_000


def _environment(home: Path) -> dict[str, str | None]:
    # The developer's own LOGISTIC_* settings must not reach these commands.
    unset: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("LOGISTIC")
    }
    return {**unset, "LOGISTIC_HOME": str(home), "LOGISTIC_LOG_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("backtest")
    seeded = CliRunner().invoke(
        logistic,
        ["seed", "--orders", str(ORDERS), "--days", "42", "--seed", "7"],
        env=_environment(home),
    )
    assert seeded.exit_code == 0, seeded.output
    return home


def test_the_window_holds_nine_times_in_ten_and_the_lanes_beat_the_rule(seeded: Path) -> None:
    done = CliRunner().invoke(logistic, ["backtest-estimate", "--json"], env=_environment(seeded))

    assert done.exit_code == 0, done.output
    figures = json.loads(done.stdout)
    assert set(figures) == {"coverage", "mae_days_lane", "mae_days_rule", "orders"}
    # Two weeks of six, less the orders still on their way, returned or in Exception.
    assert 0.2 * ORDERS < figures["orders"] < ORDERS / 3
    assert 0.88 <= figures["coverage"] <= 0.92
    assert figures["mae_days_lane"] < figures["mae_days_rule"]


def test_the_table_shows_each_lane_group(seeded: Path) -> None:
    done = CliRunner().invoke(logistic, ["backtest-estimate"], env=_environment(seeded))

    assert done.exit_code == 0, done.output
    rows = {line.split("  ")[0].strip(): line.split() for line in done.stdout.splitlines()}
    assert {"all", "main island", "outlying islands"} <= set(rows)
    for name in ("main island", "outlying islands"):
        coverage, lane, rule = (float(value) for value in rows[name][-3:])
        assert 0.85 <= coverage <= 0.95, name
        assert lane < rule, name


def test_a_chosen_period_is_scored_and_a_backward_one_refused(seeded: Path) -> None:
    runner = CliRunner()
    env = _environment(seeded)
    chosen = runner.invoke(
        logistic,
        ["backtest-estimate", "--train-until", "2000-01-01", "--test-until", "2000-01-15",
         "--json"],
        env=env,
    )  # fmt: skip
    backward = runner.invoke(
        logistic,
        ["backtest-estimate", "--train-until", "2000-01-15T00:00:00+08:00",
         "--test-until", "2000-01-01"],
        env=env,
    )  # fmt: skip
    malformed = runner.invoke(logistic, ["backtest-estimate", "--train-until", "soon"], env=env)

    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout) == {
        "coverage": None, "mae_days_lane": None, "mae_days_rule": None, "orders": 0,
    }  # fmt: skip
    assert backward.exit_code == 1
    assert "the training must end before the test does" in backward.stderr
    assert malformed.exit_code == 2
    assert "not a date (YYYY-MM-DD) nor an ISO 8601 instant: 'soon'" in malformed.stderr
