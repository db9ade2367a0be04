"""The bench judges seeding by the whole million it seeded, not by a median of its phases."""

from __future__ import annotations

import pytest
from bench.dataset import seed_summary
from bench.figures import FigureTable


def test_a_million_seeded_in_two_phases_is_judged_by_its_total_time() -> None:
    # 14.4 s then 104.4 s: the million took 118.8 s, within 120, though the mean of
    # the two phases' rates (6,944 and 8,621 orders/s) is below 8,333.
    table = FigureTable()
    table.seeding(100_000, 14.4)
    table.seeding(900_000, 104.4)

    figure = table.figures["seeding rate"]
    assert figure.values == [pytest.approx(1_000_000 / 118.8)]
    assert figure.verdict() == "yes"


def test_a_million_seeded_too_slowly_fails() -> None:
    table = FigureTable()
    table.seeding(100_000, 12.0)
    table.seeding(900_000, 109.0)

    assert table.figures["seeding rate"].verdict() == "**no**"


@pytest.mark.parametrize(
    ("output", "summary"),
    [
        ("900,000 orders added; 1,000,000 stored\n", (900_000, 1_000_000)),
        ("0 orders added; 100,000 stored\n", (0, 100_000)),
        ("Traceback (most recent call last):\n", (0, 0)),
    ],
)
def test_the_seed_commands_summary_gives_the_orders_added_and_stored(
    output: str, summary: tuple[int, int]
) -> None:
    assert seed_summary(output) == summary
