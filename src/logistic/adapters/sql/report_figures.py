"""Report figures computed by the database: a few aggregates, each over an index alone.

No query reads the tracking events, none returns more than a few thousand
rows, and order rows are read only for the orders created after the slot.
Which index or table serves which figure (see migrations 0003, 0004, 0006, 0009 and 0010):

* counts by status and by location: the status_counts and place_counts tables,
  less the orders created after the slot (a range of (current_location_id,
  created_at, current_status) for each place);
* stuck orders: (current_status, last_event_at, created_at), by range for each
  unfinished status;
* recent deliveries, transit times and the on-time rate: a range of
  (delivered_at, created_at, promised_by).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal_column, select
from sqlalchemy.engine import Connection, Engine

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.status_counts import counts_as_of
from logistic.adapters.sql.tables import locations, orders
from logistic.domain.report import LocationCount, ReportFigures, StuckShipments
from logistic.domain.status import TERMINAL, Status
from logistic.domain.transit import TransitHistogram
from logistic.ports.reports import RECENT_DELIVERIES

_UNFINISHED = sorted(status.value for status in Status if status not in TERMINAL)


def _transit_minutes(dialect: str) -> ColumnElement[Any]:
    """Whole minutes from creation to delivery, in the dialect's own date arithmetic."""
    if dialect in ("mysql", "mariadb"):
        return func.timestampdiff(
            literal_column("MINUTE"), orders.c.created_at, orders.c.delivered_at
        )
    days = func.julianday(orders.c.delivered_at) - func.julianday(orders.c.created_at)
    # julianday carries about a millisecond of float error: round it off before flooring.
    return cast(func.round(days * 86_400_000) / 60_000, Integer)


class SqlReportFigures:
    """The ReportFigureSource promise kept by SQL aggregates, on SQLite or MariaDB."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._minutes = _transit_minutes(engine.dialect.name)

    def figures(self, as_of: datetime, stuck_after: timedelta) -> ReportFigures:
        with storage_errors("computing the report figures"), self._snapshot() as connection:
            counts = counts_as_of(connection, as_of)
            by_status, by_place = counts.by_status, counts.by_place
            titles = {
                row.id: row.title
                for row in connection.execute(select(locations.c.id, locations.c.title))
            }
            stuck = _stuck(connection, as_of, stuck_after)
            recent = _delivered_between(connection, as_of - RECENT_DELIVERIES, as_of)
            transit = connection.execute(
                select(
                    self._minutes,
                    func.count(),
                    func.sum(case((orders.c.delivered_at < orders.c.promised_by, 1), else_=0)),
                )
                .where(orders.c.delivered_at <= as_of)
                .group_by(self._minutes)
            ).all()
        histogram = TransitHistogram((int(minute), int(count)) for minute, count, _ in transit)
        on_time = sum(int(punctual) for _, _, punctual in transit)
        places = {key: count for key, count in by_place.items() if key is not None}
        return ReportFigures(
            tracking_summary={key: count for key, count in by_status.items() if key is not None},
            total_orders=sum(by_status.values()),
            by_location=[
                LocationCount(location_id, titles.get(location_id, str(location_id)), count)
                for location_id, count in ({key: 0 for key in titles} | places).items()
            ],
            stuck=StuckShipments(stuck, stuck_after // timedelta(hours=1)),
            delivered_last_8h=recent,
            transit_hours_median=histogram.percentile_hours(0.5),
            transit_hours_p90=histogram.percentile_hours(0.9),
            on_time_rate=on_time / histogram.count if histogram.count else None,
        )

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        # One transaction, so every query sees the same orders: a consistent read
        # view on MariaDB (REPEATABLE READ), a read transaction on SQLite.
        with self._engine.connect() as connection:
            if connection.dialect.name in ("mysql", "mariadb"):
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection


def _stuck(connection: Connection, as_of: datetime, stuck_after: timedelta) -> int:
    return int(
        connection.execute(
            select(func.count()).where(
                orders.c.current_status.in_(_UNFINISHED),
                orders.c.last_event_at < as_of - stuck_after,
                orders.c.created_at <= as_of,
            )
        ).scalar_one()
    )


def _delivered_between(connection: Connection, after: datetime, until: datetime) -> int:
    return int(
        connection.execute(
            select(func.count()).where(
                orders.c.delivered_at > after, orders.c.delivered_at <= until
            )
        ).scalar_one()
    )
