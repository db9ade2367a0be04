"""The bench's page figure: a cached tracking page beside a cached /query body, judged by the
workers' CPU per request (at most 1.5 times), round by round."""

from __future__ import annotations

from bench.figures import FigureTable
from bench.processes import ROOT
from bench.run import PAGE_CPU_LIMIT

NAME = "page hit c8 / hit c8 (workers' CPU per request)"


def _table(page_cpu: list[float], json_cpu: list[float]) -> FigureTable:
    table = FigureTable()
    table.figure("hit c8", "req/s").cpu["service"] = json_cpu
    table.figure("page hit c8", "req/s").cpu["service"] = page_cpu
    table.cpu_ratio(NAME, "page hit c8", "hit c8", PAGE_CPU_LIMIT)
    return table


def test_a_page_within_one_and_a_half_times_the_json_hits_cpu_holds() -> None:
    table = _table(page_cpu=[0.15, 0.18, 0.14], json_cpu=[0.12, 0.12, 0.11])
    ratio = table.ratios[NAME]
    assert [round(value, 3) for value in ratio.values] == [1.25, 1.5, 1.273]
    assert ratio.verdict() == "yes"
    assert f"| {NAME} | 1.27 (1.25-1.50) | ≤ 1.5 | yes |" in table.markdown([])


def test_a_page_dearer_than_that_fails_whatever_the_machine() -> None:
    table = _table(page_cpu=[0.2, 0.21], json_cpu=[0.12, 0.12])
    assert table.ratios[NAME].verdict() == "**no**"
    table.figure("ceiling, granian -w 2 c8", "req/s").values = [28_000.0]  # twice as fast
    assert table.ratios[NAME].verdict(speed=2.0) == "**no**"


def test_no_ratio_without_both_figures() -> None:
    table = FigureTable()
    table.figure("hit c8", "req/s").cpu["service"] = [0.1]
    table.cpu_ratio(NAME, "page hit c8", "hit c8", PAGE_CPU_LIMIT)
    assert NAME not in table.ratios


def test_the_wrk_script_asks_for_the_tracking_page() -> None:
    script = (ROOT / "bench" / "wrk" / "page.lua").read_text()
    assert '"/track/" .. (args[1] or "1")' in script
    assert "Accept-Language" in script
