"""Time the report figures on a database: the whole report, the status counts, each statement.

    .venv/bin/python bench/report_figures.py mysql+pymysql://root@127.0.0.1/logistic_bench \
        [--runs 5] [--hours-back 0]

`--hours-back` puts the slot that many hours before now (a catch-up or a report by hand).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.report_figures import SqlReportFigures
from logistic.adapters.sql.status_counts import counts_as_of


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
