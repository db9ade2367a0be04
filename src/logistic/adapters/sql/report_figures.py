"""Report figures computed by the database: a handful of aggregates over index-only scans.

No query reads the tracking events, and none returns more than a few thousand
rows. Counting the orders created at or before an instant would defeat the
status and location indexes, so every additive figure is counted over all
orders with an index-only scan, less the same figure over the few orders created
after the instant (found through the created_at index).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, case, cast, func, literal_column, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from logistic.adapters.sql.tables import locations, orders
from logistic.domain.errors import StorageUnavailable
from logistic.domain.report import LocationCount, ReportFigures, StuckShipments
from logistic.domain.status import TERMINAL, Status
from logistic.domain.transit import TransitHistogram
from logistic.ports.reports import RECENT_DELIVERIES


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except (DBAPIError, PoolTimeout) as error:
        cause = getattr(error, "orig", None) or error
        raise StorageUnavailable(
            f"computing the report figures failed ({type(cause).__name__})"
        ) from error


def _transit_minutes(dialect: str) -> ColumnElement[Any]:
    """Whole minutes from creation to delivery, in the dialect's own date arithmetic."""
    if dialect in ("mysql", "mariadb"):
        return func.timestampdiff(
            literal_column("MINUTE"), orders.c.created_at, orders.c.delivered_at
        )
    days = func.julianday(orders.c.delivered_at) - func.julianday(orders.c.created_at)
    # julianday carries about a millisecond of float error: round it off before flooring.
    return cast(func.round(days * 86_400_000) / 60_000, Integer)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlReportFigures:
    """The ReportFigureSource promise kept by SQL aggregates, on SQLite or MariaDB."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._minutes = _transit_minutes(engine.dialect.name)

    def figures(self, as_of: datetime, stuck_after: timedelta) -> ReportFigures:
        with _storage_errors(), self._snapshot() as connection:
            return self._figures(connection, as_of, stuck_after)

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        # One transaction, so every query sees the same orders: a consistent read
        # view on MariaDB (REPEATABLE READ), a read transaction on SQLite.
        with self._engine.connect() as connection:
            if connection.dialect.name in ("mysql", "mariadb"):
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    def _figures(
        self, connection: Connection, as_of: datetime, stuck_after: timedelta
    ) -> ReportFigures:
        newer = orders.c.created_at > as_of
        quiet = _count_if(orders.c.last_event_at < as_of - stuck_after)
        by_status = _difference(
            connection.execute(
                select(orders.c.current_status, func.count(), quiet).group_by(
                    orders.c.current_status
                )
            ).all(),
            connection.execute(
                select(orders.c.current_status, func.count(), quiet)
                .where(newer)
                .group_by(orders.c.current_status)
            ).all(),
        )
        by_place = _difference(
            connection.execute(
                select(orders.c.current_location_id, func.count()).group_by(
                    orders.c.current_location_id
                )
            ).all(),
            connection.execute(
                select(orders.c.current_location_id, func.count())
                .where(newer)
                .group_by(orders.c.current_location_id)
            ).all(),
        )
        recent = connection.execute(
            select(func.count()).where(
                orders.c.delivered_at > as_of - RECENT_DELIVERIES, orders.c.delivered_at <= as_of
            )
        ).scalar_one()
        transit = connection.execute(
            select(
                self._minutes, func.count(), _count_if(orders.c.delivered_at < orders.c.promised_by)
            )
            .where(orders.c.delivered_at <= as_of)
            .group_by(self._minutes)
        ).all()
        titles = {
            row.id: row.title
            for row in connection.execute(select(locations.c.id, locations.c.title))
        }
        return _assemble(by_status, by_place, titles, recent, transit, stuck_after)


def _difference(everything: Any, newer: Any) -> dict[Any, tuple[int, ...]]:
    """Per group key, the counts of all orders less those of the orders created after as_of."""
    totals: dict[Any, list[int]] = {key: [int(n) for n in counts] for key, *counts in everything}
    for key, *counts in newer:
        totals[key] = [total - int(n) for total, n in zip(totals[key], counts, strict=True)]
    return {key: tuple(counts) for key, counts in totals.items()}


def _assemble(
    by_status: dict[Any, tuple[int, ...]],
    by_place: dict[Any, tuple[int, ...]],
    titles: dict[int, str],
    recent: int,
    transit: Any,
    stuck_after: timedelta,
) -> ReportFigures:
    delivered = sum(int(count) for _, count, _ in transit)
    on_time = sum(int(punctual) for _, _, punctual in transit)
    histogram = TransitHistogram((int(minute), int(count)) for minute, count, _ in transit)
    places = {key: counts[0] for key, counts in by_place.items() if key is not None}
    return ReportFigures(
        tracking_summary={
            status: counts[0] for status, counts in by_status.items() if status is not None
        },
        total_orders=sum(counts[0] for counts in by_status.values()),
        by_location=[
            LocationCount(location_id, titles.get(location_id, str(location_id)), count)
            for location_id, count in ({key: 0 for key in titles} | places).items()
        ],
        stuck=StuckShipments(
            sum(
                counts[1]
                for status, counts in by_status.items()
                if status is not None and Status(status) not in TERMINAL
            ),
            stuck_after // timedelta(hours=1),
        ),
        delivered_last_8h=int(recent),
        transit_hours_median=histogram.percentile_hours(0.5),
        transit_hours_p90=histogram.percentile_hours(0.9),
        on_time_rate=on_time / delivered if delivered else None,
    )
