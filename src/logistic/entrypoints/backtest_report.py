"""What `logistic backtest-estimate` prints: a table for people, one JSON object for scripts."""

from __future__ import annotations

import json

from logistic.domain.backtest import Backtest, Score

COVERAGE_TARGET = (0.88, 0.92)


def _figure(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _row(name: str, score: Score) -> str:
    return (
        f"{name:<18}{score.orders:>9,}{score.from_lanes:>12,}{_figure(score.coverage):>10}"
        f"{_figure(score.mae_days_lane):>10}{_figure(score.mae_days_rule):>10}"
    )


def backtest_text(result: Backtest, trained_until: str, tested_until: str) -> str:
    low, high = COVERAGE_TARGET
    overall = result.overall
    lines = [
        f"trained on the deliveries of the 90 days up to {trained_until};",
        f"tested on the orders created after it and delivered by {tested_until}",
        "",
        f"{'lanes':<18}{'orders':>9}{'from lanes':>12}{'coverage':>10}"
        f"{'MAE lane':>10}{'MAE rule':>10}",
        _row("all", overall),
        *(_row(str(group), score) for group, score in result.by_group.items() if score.orders),
        "",
        f"coverage: the share delivered within the 90% window (target {low}-{high}); "
        "MAE: mean absolute error in days of the lane estimate and of the fixed rule",
    ]
    return "\n".join(lines)


def backtest_json(result: Backtest) -> str:
    overall = result.overall
    return json.dumps(
        {
            "coverage": overall.coverage,
            "mae_days_lane": overall.mae_days_lane,
            "mae_days_rule": overall.mae_days_rule,
            "orders": overall.orders,
        }
    )
