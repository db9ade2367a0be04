"""Time the report figures on a database: the whole report, the status counts, each statement.

    .venv/bin/python -m bench.report_figures mysql+pymysql://root@127.0.0.1/logistic_bench \
        [--runs 5] [--hours-back 0]

`--hours-back` puts the slot that many hours before now (a catch-up or a report by hand).
The bench (`report_times`) runs this in a process of its own.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bench.figures import Bound, FigureTable
from bench.processes import ROOT
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.report_figures import SqlReportFigures
from logistic.adapters.sql.status_counts import counts_as_of


def report_times(table: FigureTable, database_url: str, rounds: int, size: str) -> None:
    """The figures "report, all figures (<size>)" and "report, status counts (<size>)"."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.report_figures", database_url, "--runs", str(rounds)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    whole = re.search(r"report: median ([0-9.]+) s \(range ([0-9.]+)-([0-9.]+)", done.stdout)
    counts = re.search(r"status counts: median ([0-9.]+) s", done.stdout)
    report = table.figure(f"report, all figures ({size})", "s", target="≤ 2 s")
    report.bound = Bound(2.0)
    if whole:
        report.values += [float(whole.group(i)) for i in (1, 2, 3)][:1]
        report.note = f"range {whole.group(2)}-{whole.group(3)} s"
    status = table.figure(f"report, status counts ({size})", "s", target="≤ 0.3 s")
    status.bound = Bound(0.3)
    if counts:
        status.values.append(float(counts.group(1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hours-back", type=float, default=0.0)
    args = parser.parse_args()
    engine = create_engine(args.url)
    statements: dict[str, list[float]] = defaultdict(list)

    @event.listens_for(engine, "before_cursor_execute")
    def _started(connection: Any, *_: Any) -> None:
        connection.info["started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _ended(connection: Any, _: Any, statement: str, *__: Any) -> None:
        statements[" ".join(statement.split())[:90]].append(
            time.perf_counter() - connection.info["started"]
        )

    source = SqlReportFigures(engine)
    as_of = datetime.now(UTC) - timedelta(hours=args.hours_back)
    totals = []
    for _ in range(args.runs):
        started = time.perf_counter()
        figures = source.figures(as_of, timedelta(hours=72))
        totals.append(time.perf_counter() - started)
    counting = []
    for _ in range(args.runs):
        with engine.connect() as connection:
            started = time.perf_counter()
            counts_as_of(connection, as_of)
            counting.append(time.perf_counter() - started)
    print(f"{figures.total_orders:,} orders as of {as_of.isoformat(timespec='seconds')}")
    print(
        f"status counts: median {statistics.median(counting):.4f} s "
        f"(range {min(counting):.4f}-{max(counting):.4f}, {args.runs} runs)"
    )
    print(
        f"report: median {statistics.median(totals):.3f} s "
        f"(range {min(totals):.3f}-{max(totals):.3f}, {args.runs} runs)"
    )
    for statement, seconds in statements.items():
        print(f"  {statistics.median(seconds):.3f} s  {statement}")
    engine.dispose()


if __name__ == "__main__":
    main()
