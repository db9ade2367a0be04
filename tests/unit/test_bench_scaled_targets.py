"""The bench judges each target twice: as the issue sets it, and scaled to the machine it
ran on by that machine's own ceiling (the issue's machine did about 14,000 req/s)."""

from __future__ import annotations

from pathlib import Path

from bench import run

from tests.unit.offline_bench import offline_bench


def _bench(tmp_path: Path, ceiling: float) -> run.Bench:
    bench = offline_bench(tmp_path)
    bench.figure("ceiling, granian -w 2 c8", "req/s").values = [ceiling]
    return bench


def _rows(lines: list[str]) -> dict[str, list[str]]:
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return {row[0]: row[1:] for row in cells if len(row) == 5}


def test_on_a_machine_half_as_fast_rates_and_times_are_judged_at_half_speed(
    tmp_path: Path,
) -> None:
    bench = _bench(tmp_path, ceiling=7_000)
    miss = bench.figure(
        "miss c8 (1M)", "req/s", bound=run.Bound(2000, at_least=True), p99_bound=run.Bound(8)
    )
    miss.values, miss.p99 = [1_600.0], [10.0]
    fake = bench.figure("/fake?num=100 latency", "ms median", bound=run.Bound(40))
    fake.values = [59.0]
    slow = bench.figure("report, all figures (1M)", "s", bound=run.Bound(2.0))
    slow.values = [4.5]
    rss = bench.figure("RSS per worker", "MiB", bound=run.Bound(80, scales=False))
    rss.values = [85.0]

    rows = _rows(bench.scaled_table())

    # 2,000 req/s at half the speed is 1,000; 8 ms and 40 ms become 16 and 80.
    assert miss.verdict() == "**no**"
    assert rows["miss c8 (1M)"][2:] == ["≥ 1,000 req/s, p99 ≤ 16.00 ms", "yes"]
    assert fake.verdict() == "**no**"
    assert rows["/fake?num=100 latency"][2:] == ["≤ 80.0 ms median", "yes"]
    # Scaled is not a pass: 4.5 s is over 4 s, and memory does not scale.
    assert rows["report, all figures (1M)"][2:] == ["≤ 4.000 s", "**no**"]
    assert rows["RSS per worker"][2:] == ["≤ 80.0 MiB", "**no**"]
    assert "Its ceiling did 7,000 req/s, 0.50 of the issue's" in "\n".join(bench.scaled_table())


def test_on_the_issues_machine_the_scaled_verdicts_are_the_issues(tmp_path: Path) -> None:
    bench = _bench(tmp_path, ceiling=run.REFERENCE_CEILING)
    for rps, p99 in [(1_990.0, 7.0), (2_100.0, 8.5), (2_100.0, 7.9)]:
        miss = bench.figure(
            f"miss {rps} {p99}", "req/s", bound=run.Bound(2000, at_least=True),
            p99_bound=run.Bound(8),
        )  # fmt: skip
        miss.values, miss.p99 = [rps], [p99]

    rows = _rows(bench.scaled_table())

    for name, row in rows.items():
        if name.startswith("miss"):
            assert row[-1] == bench.figures[name].verdict(), name
    assert [row[-1] for name, row in rows.items() if name.startswith("miss")] == [
        "**no**",
        "**no**",
        "yes",
    ]


def test_without_a_ceiling_there_is_nothing_to_scale_by(tmp_path: Path) -> None:
    bench = _bench(tmp_path, ceiling=0)
    bench.figures.clear()

    assert bench.scaled_table() == []


def test_the_hits_keep_their_ratio_and_have_their_p99_scaled(tmp_path: Path) -> None:
    bench = _bench(tmp_path, ceiling=7_000)
    hit = bench.figure("hit c8", "req/s", p99_bound=run.Bound(3))
    hit.values, hit.p99 = [5_000.0], [4.0]
    bench.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")

    # 5,000 of 7,000 is 0.71: the ratio holds anywhere; 4 ms is over 3, under 6.
    assert bench.verdict(hit) == "**no**"
    assert _rows(bench.scaled_table())["hit c8"][2:] == [
        "≥ 0.7 of the ceiling, p99 ≤ 6.00 ms",
        "yes",
    ]

    hit.values = [4_500.0]  # 0.64 of the ceiling: no machine's speed makes that hold
    bench.ratio("cache hit c8 / ceiling (granian)", "hit c8", "ceiling, granian -w 2 c8")
    assert _rows(bench.scaled_table())["hit c8"][-1] == "**no**"


def test_a_ceiling_that_answered_nothing_scales_nothing(tmp_path: Path) -> None:
    bench = _bench(tmp_path, ceiling=0)
    bench.figure("/fake?num=100 latency", "ms median", bound=run.Bound(40)).values = [30.0]

    assert bench.scaled_table() == []
    assert "Scaled to this machine" not in bench.table()
