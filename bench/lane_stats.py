"""Time the lane stats on a database: computing them from 90 days of deliveries, and storing them.

    .venv/bin/python -m bench.lane_stats mysql+pymysql://root@127.0.0.1/logistic_bench [--runs 5]

The figure is the scheduler's whole refresh (compute, then replace the stored rows); the
bench (`lane_times`) runs this in a process of its own, as it runs the report's.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench.figures import Bound, FigureTable
from bench.processes import ROOT
from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.lanes import SqlLaneHistory
from logistic.domain.lanes import LANE_WINDOW


def lane_times(table: FigureTable, database_url: str, rounds: int, size: str) -> None:
    """The figure "lane stats refresh (<size>)" of the database at `database_url`."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.lane_stats", database_url, "--runs", str(rounds)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    whole = re.search(r"refresh: median ([0-9.]+) s \(range ([0-9.]+)-([0-9.]+)", done.stdout)
    figure = table.figure(f"lane stats refresh ({size})", "s", target="≤ 5 s")
    figure.bound = Bound(5.0)
    if whole:
        figure.values.append(float(whole.group(1)))
        figure.note = f"range {whole.group(2)}-{whole.group(3)} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = create_engine(args.url)
    lanes = SqlLaneHistory(engine)
    as_of = datetime.now(UTC)
    computing, refreshing = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        stats = lanes.compute(as_of, LANE_WINDOW)
        computed = time.perf_counter()
        lanes.replace(stats)
        computing.append(computed - started)
        refreshing.append(time.perf_counter() - started)
    deliveries = sum(each.deliveries for each in stats)
    print(
        f"{len(stats)} lanes, {deliveries:,} deliveries as of {as_of.isoformat(timespec='seconds')}"
    )
    print(
        f"compute: median {statistics.median(computing):.3f} s "
        f"(range {min(computing):.3f}-{max(computing):.3f}, {args.runs} runs)"
    )
    print(
        f"refresh: median {statistics.median(refreshing):.3f} s "
        f"(range {min(refreshing):.3f}-{max(refreshing):.3f}, {args.runs} runs)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
