"""Lane stats computed by the database: one GROUP BY over the delivered orders' index.

The index on (delivered_at, created_at, promised_by, origin_id, destination_id)
(migration 0013) holds every column the query reads: the range of 90 days of
deliveries is read from it alone, grouped by lane and whole hour of transit, and
the few thousand rows that come back are turned into percentiles here
(domain/lanes.py). Replacing the stored stats is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, cast, delete, func, insert, literal_column, select
from sqlalchemy.engine import Engine

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import lane_stats as lane_stats_table
from logistic.adapters.sql.tables import orders
from logistic.domain.lanes import Delivery, LaneStats, lane_stats


def _transit_hours(dialect: str) -> ColumnElement[Any]:
    """Whole hours from creation to delivery, in the dialect's own date arithmetic."""
    if dialect in ("mysql", "mariadb"):
        return func.timestampdiff(
            literal_column("HOUR"), orders.c.created_at, orders.c.delivered_at
        )
    days = func.julianday(orders.c.delivered_at) - func.julianday(orders.c.created_at)
    # julianday carries about a millisecond of float error: round it off before flooring.
    return cast(func.round(days * 86_400_000) / 3_600_000, Integer)


class SqlLaneHistory:
    """The LaneHistory promise kept by SQL, on SQLite or MariaDB."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._hours = _transit_hours(engine.dialect.name)

    def compute(self, as_of: datetime, window: timedelta) -> tuple[LaneStats, ...]:
        statement = (
            select(orders.c.origin_id, orders.c.destination_id, self._hours, func.count())
            .where(orders.c.delivered_at > as_of - window, orders.c.delivered_at <= as_of)
            .group_by(orders.c.origin_id, orders.c.destination_id, self._hours)
        )
        with storage_errors("computing the lane stats"), self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        return lane_stats((tuple(row) for row in rows), as_of)

    def replace(self, stats: Sequence[LaneStats]) -> None:
        rows = [
            {
                "origin_id": each.origin_id,
                "destination_id": each.destination_id,
                "deliveries": each.deliveries,
                "p05_hours": each.p05_hours,
                "p50_hours": each.p50_hours,
                "p95_hours": each.p95_hours,
                "computed_at": each.computed_at,
            }
            for each in stats
        ]
        with storage_errors("storing the lane stats"), self._engine.begin() as connection:
            connection.execute(delete(lane_stats_table))
            if rows:
                connection.execute(insert(lane_stats_table), rows)

    def stored(self) -> tuple[LaneStats, ...]:
        table = lane_stats_table
        statement = select(
            table.c.origin_id,
            table.c.destination_id,
            table.c.deliveries,
            table.c.p05_hours,
            table.c.p50_hours,
            table.c.p95_hours,
            table.c.computed_at,
        ).order_by(table.c.origin_id, table.c.destination_id)
        with storage_errors("reading the lane stats"), self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        return tuple(
            LaneStats(
                int(origin), int(destination), int(count), float(low), float(middle),
                float(high), at,
            )
            for origin, destination, count, low, middle, high, at in rows
        )  # fmt: skip

    def deliveries(
        self, created_after: datetime, created_until: datetime, delivered_until: datetime
    ) -> list[Delivery]:
        statement = (
            select(
                orders.c.origin_id,
                orders.c.destination_id,
                orders.c.created_at,
                orders.c.promised_by,
                orders.c.delivered_at,
            )
            .where(
                orders.c.created_at > created_after,
                orders.c.created_at <= created_until,
                orders.c.delivered_at <= delivered_until,
            )
            .order_by(orders.c.created_at, orders.c.sno)
        )
        with storage_errors("reading the deliveries"), self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [Delivery(*row) for row in rows]
