"""`logistic backtest-estimate` and what it prints: a table for people, one JSON object for
scripts."""

from __future__ import annotations

import json
from datetime import date, datetime, time, tzinfo

import click

from logistic.container import Container
from logistic.domain.backtest import Backtest, Score
from logistic.entrypoints.command import with_container
from logistic.entrypoints.option_types import DayOrInstant
from logistic.services.backtesting import HELD_OUT

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


def _instant(day_or_instant: date | datetime | None, zone: tzinfo) -> datetime | None:
    if day_or_instant is None or isinstance(day_or_instant, datetime):
        return day_or_instant
    return datetime.combine(day_or_instant, time(), tzinfo=zone)


@click.command(
    "backtest-estimate",
    help="score the lane estimate on held-out delivered orders against the fixed rule",
)
@click.option(
    "--train-until",
    type=DayOrInstant(),
    default=None,
    help="learn from deliveries up to here (default: 14 days before --test-until)",
)
@click.option(
    "--test-until",
    type=DayOrInstant(),
    default=None,
    help="test on orders created after --train-until and delivered by here (default: now)",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@with_container
def backtest_estimate(
    container: Container,
    train_until: date | datetime | None,
    test_until: date | datetime | None,
    as_json: bool,
) -> None:
    zone = container.settings().timezone
    tested = _instant(test_until, zone) or container.clock().now()
    trained = _instant(train_until, zone) or tested - HELD_OUT
    result = container.backtesting().run(trained, tested)
    if as_json:
        print(backtest_json(result), flush=True)
        return
    print(backtest_text(result, trained.isoformat(), tested.isoformat()), flush=True)
