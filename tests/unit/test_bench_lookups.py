"""The bench's lookup figures: each ratio is paired round by round and judged by its target."""

from __future__ import annotations

from bench.figures import FigureTable
from bench.lookups import lookup_ratios


def test_each_ratio_is_judged_by_its_own_target() -> None:
    table = FigureTable()
    table.figure("hit c8", "req/s").values = [7000.0, 6000.0]
    table.figure("304 c8", "req/s").values = [7700.0, 5400.0]
    table.figure("batch of 50 hits c8", "snos/s").values = [36000.0, 30000.0]
    table.figure("miss c8 (1M)", "req/s").values = [2000.0, 2000.0]
    table.figure("batch of 50 misses c8 (1M)", "snos/s").values = [5000.0, 5000.0]

    lookup_ratios(table, "1M")

    not_modified = table.ratios["304 c8 / hit c8"]
    assert not_modified.values == [1.1, 0.9]
    assert (not_modified.target, not_modified.verdict()) == ("≥ 1", "yes")  # the median, 1.0
    hits = table.ratios["batch of 50 hits / hit c8, snos/s"]
    assert (hits.target, hits.verdict()) == ("≥ 5", "yes")
    misses = table.ratios["batch of 50 misses / miss c8 (1M), snos/s"]
    assert misses.values == [2.5, 2.5]
    assert (misses.target, misses.verdict()) == ("≥ 3", "**no**")
    # A machine twice as fast asks no more of a ratio of two of its own figures.
    assert misses.bound is not None
    assert misses.bound.scaled(2.0) == 3.0


def test_a_ratio_without_both_figures_is_left_out() -> None:
    table = FigureTable()
    table.figure("hit c8", "req/s").values = [7000.0]

    lookup_ratios(table, "100k")

    assert table.ratios == {}
    assert "304 c8 / hit c8" not in table.markdown(["heading"])
