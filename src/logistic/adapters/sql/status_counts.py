"""The orders per current status, kept in the status_counts table (migration 0006).

Every write that sets orders.current_status adds its changes here in the same
transaction (`add_to_counts`), so a report reads a few rows instead of counting
a million (`counts_as_of`). The rows are changed by one UPDATE, which locks them
in key order: writers never wait for each other in a cycle.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.engine import Connection

from logistic.adapters.sql.tables import NO_STATUS, orders, status_counts
from logistic.domain.status import Status

log = logging.getLogger(__name__)


def stored(status: Status | None) -> str:
    """The status_counts key of orders whose current status is `status`."""
    return NO_STATUS if status is None else status.value


def add_to_counts(connection: Connection, changes: Mapping[str, int]) -> None:
    """Add `changes` (count by status_counts key) to the stored counts."""
    changes = {status: change for status, change in changes.items() if change}
    if not changes:
        return
    result = connection.execute(
        update(status_counts)
        .where(status_counts.c.status.in_(changes))
        .values(orders=status_counts.c.orders + case(changes, value=status_counts.c.status))
    )
    if result.rowcount != len(changes):
        raise LookupError(
            f"status_counts lacks a row for one of {sorted(changes)}: run `logistic migrate`"
        )


# Orders created after a slot, by status: read from this index alone (migration 0009).
BY_PLACE_AND_TIME = "ix_orders_current_location_id_created_at_current_status"


def counts_as_of(connection: Connection, as_of: datetime) -> Counter[str | None]:
    """Orders created at or before `as_of`, by current status (None: no event yet).

    The stored counts hold every order; those created after `as_of` are taken away.
    Two queries: call it inside a transaction that reads one snapshot (as the
    report does), or an order that moves between them may be counted wrongly.
    """
    counts = Counter(
        {
            None if status == NO_STATUS else status: int(count)
            for status, count in connection.execute(
                select(status_counts.c.status, status_counts.c.orders)
            )
        }
    )
    # Orders created after the slot: a range of (current_location_id, created_at,
    # current_status) for each place an order may be at, the places read from that index
    # first. orders has no index on created_at alone: /fake?num=100 wrote 100 random
    # entries into it, most of them a page read from disk with Debian's 128 MiB buffer
    # pool. MariaDB is told the index: for a window of most orders it chose to read
    # every row through the status index instead (30 s at 1M orders, against 0.5 s).
    places = connection.execute(select(orders.c.current_location_id).distinct()).scalars().all()
    located = [place for place in places if place is not None]
    anywhere: ColumnElement[bool] = orders.c.current_location_id.is_(None)
    if located:
        anywhere = anywhere | orders.c.current_location_id.in_(located)
    hint = f"FORCE INDEX ({BY_PLACE_AND_TIME})"
    later = connection.execute(
        select(orders.c.current_status, func.count())
        .with_hint(orders, hint, dialect_name="mysql")
        .with_hint(orders, hint, dialect_name="mariadb")
        .where(anywhere, orders.c.created_at > as_of)
        .group_by(orders.c.current_status)
    )
    counts.subtract({status: int(count) for status, count in later})
    if any(count < 0 for count in counts.values()):
        log.error(
            "status_counts disagree with the orders (%s): recount them with the statement"
            " in migrations/versions/0006_status_counts.py",
            dict(counts),
        )
    return +counts
