"""The bench judges each target twice: as the issue sets it, and scaled to the machine it
ran on by that machine's own ceiling (against the issue's machine, REFERENCE_CEILING)."""

from __future__ import annotations

from bench.figures import REFERENCE_CEILING, Bound, FigureTable


def _table(ceiling: float) -> FigureTable:
    table = FigureTable()
    table.figure("ceiling, granian -w 2 c8", "req/s").values = [ceiling]
    return table


def _rows(lines: list[str]) -> dict[str, list[str]]:
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return {row[0]: row[1:] for row in cells if len(row) == 5}


def test_on_a_machine_half_as_fast_rates_and_times_are_judged_at_half_speed() -> None:
    table = _table(ceiling=REFERENCE_CEILING / 2)
    miss = table.figure(
        "miss c8 (1M)", "req/s", bound=Bound(2000, at_least=True), p99_bound=Bound(8)
    )
    miss.values, miss.p99 = [1_600.0], [10.0]
    fake = table.figure("/fake?num=100 latency", "ms median", bound=Bound(40))
    fake.values = [59.0]
    slow = table.figure("report, all figures (1M)", "s", bound=Bound(2.0))
    slow.values = [4.5]
    rss = table.figure("RSS per worker", "MiB", bound=Bound(80, scales=False))
    rss.values = [85.0]

    rows = _rows(table.scaled())

    # 2,000 req/s at half the speed is 1,000; 8 ms and 40 ms become 16 and 80.
    assert miss.verdict() == "**no**"
    assert rows["miss c8 (1M)"][2:] == ["≥ 1,000 req/s, p99 ≤ 16.00 ms", "yes"]
    assert fake.verdict() == "**no**"
    assert rows["/fake?num=100 latency"][2:] == ["≤ 80.0 ms median", "yes"]
    # Scaled is not a pass: 4.5 s is over 4 s, and memory does not scale.
    assert rows["report, all figures (1M)"][2:] == ["≤ 4.000 s", "**no**"]
    assert rows["RSS per worker"][2:] == ["≤ 80.0 MiB", "**no**"]
    assert "Its ceiling did 7,000 req/s, 0.50 of the issue's" in "\n".join(table.scaled())


def test_on_the_issues_machine_the_scaled_verdicts_are_the_issues() -> None:
    table = _table(ceiling=REFERENCE_CEILING)
    for rps, p99 in [(1_990.0, 7.0), (2_100.0, 8.5), (2_100.0, 7.9)]:
        miss = table.figure(
            f"miss {rps} {p99}", "req/s", bound=Bound(2000, at_least=True), p99_bound=Bound(8)
        )
        miss.values, miss.p99 = [rps], [p99]

    rows = _rows(table.scaled())

    for name, row in rows.items():
        if name.startswith("miss"):
            assert row[-1] == table.figures[name].verdict(), name
    assert [row[-1] for name, row in rows.items() if name.startswith("miss")] == [
        "**no**",
        "**no**",
        "yes",
    ]


def test_without_a_ceiling_there_is_nothing_to_scale_by() -> None:
    table = _table(ceiling=0)
    table.figures.clear()

    assert table.scaled() == []


def test_the_hits_keep_their_ratio_and_have_their_p99_scaled() -> None:
    table = _table(ceiling=REFERENCE_CEILING / 2)
    hit = table.figure("hit c8", "req/s", p99_bound=Bound(3))
    hit.values, hit.p99 = [5_000.0], [4.0]
    table.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")

    # 5,000 of 7,000 is 0.71: the ratio holds anywhere; 4 ms is over 3, under 6.
    assert table.verdict(hit) == "**no**"
    assert _rows(table.scaled())["hit c8"][2:] == [
        "≥ 0.7 of the ceiling, p99 ≤ 6.00 ms",
        "yes",
    ]

    hit.values = [4_500.0]  # 0.64 of the ceiling: no machine's speed makes that hold
    table.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")
    assert _rows(table.scaled())["hit c8"][-1] == "**no**"


def test_a_ceiling_that_answered_nothing_scales_nothing() -> None:
    table = _table(ceiling=0)
    table.figure("/fake?num=100 latency", "ms median", bound=Bound(40)).values = [30.0]

    assert table.scaled() == []
    assert "Scaled to this machine" not in table.markdown(["### Benchmark"])
