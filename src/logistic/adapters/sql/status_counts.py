"""The orders per current status and per current place, kept in the status_counts
(migration 0006) and place_counts (0010) tables.

Every write that sets orders.current_status or current_location_id adds its
changes there in the same transaction (`add_to_counts`), so a report reads a few
rows instead of counting a million (`counts_as_of`). Each table's rows are
changed by one UPDATE, which locks them in key order, status_counts first:
writers never wait for each other in a cycle.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, TypeVar

from attrs import frozen
from sqlalchemy import Column, ColumnElement, case, func, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.engine import Connection, Engine

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import (
    NO_PLACE,
    NO_STATUS,
    locations,
    orders,
    place_counts,
    status_counts,
)
from logistic.adapters.sql.transactions import in_transaction
from logistic.domain.errors import DomainError
from logistic.domain.status import Status

log = logging.getLogger(__name__)
Key = TypeVar("Key", str, int)


def stored(status: Status | None) -> str:
    """The status_counts key of orders whose current status is `status`."""
    return NO_STATUS if status is None else status.value


def place(location_id: int | None) -> int:
    """The place_counts key of orders whose current place is `location_id`."""
    return NO_PLACE if location_id is None else location_id


def moved(before: Key, after: Key) -> dict[Key, int]:
    """The changes to the counts of an order that moves from key `before` to `after`."""
    return {} if before == after else {before: -1, after: 1}


def add_to_counts(
    connection: Connection, statuses: Mapping[str, int], places: Mapping[int, int]
) -> None:
    """Add the changes (count by key: `stored` for statuses, `place` for places) to the
    stored counts."""
    statuses = {status: change for status, change in statuses.items() if change}
    if _add(connection, status_counts.c.status, statuses) != len(statuses):
        raise LookupError(
            f"status_counts lacks a row for one of {sorted(statuses)}: run `logistic migrate`"
        )
    places = {key: change for key, change in places.items() if change}
    if _add(connection, place_counts.c.place, places) != len(places):
        # A place without a row: an order moved there by hand, or a place added to the
        # catalog some other way than SqlLocationCatalog.sync.
        present = set(
            connection.execute(
                select(place_counts.c.place).where(place_counts.c.place.in_(places))
            ).scalars()
        )
        _upsert_places(connection, {k: v for k, v in places.items() if k not in present})


def make_places(connection: Connection, keys: Collection[int]) -> None:
    """Rows at zero for the places `keys` (`place` keys) that have none."""
    _upsert_places(connection, dict.fromkeys(keys, 0))


def _upsert_places(connection: Connection, changes: Mapping[int, int]) -> None:
    """Add `changes` to their rows of place_counts, making those that are missing.

    One upsert, in key order: a writer that finds a row made meanwhile by another (or
    made by it, not yet committed) waits for that row's exclusive lock and adds to it.
    An insert that ignores the duplicate and an update after it would take a shared
    lock first, and two writers each holding one while waiting for the other's
    exclusive lock deadlock.
    """
    if not changes:
        return
    rows = [{"place": key, "orders": change} for key, change in sorted(changes.items())]
    if connection.dialect.name == "sqlite":
        # Imported here: a worker on MariaDB never loads SQLite's dialect (0.7 MiB).
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        on_sqlite = sqlite_insert(place_counts)
        statement: Any = on_sqlite.on_conflict_do_update(
            index_elements=[place_counts.c.place],
            set_={"orders": place_counts.c.orders + on_sqlite.excluded.orders},
        )
    else:
        on_mysql = mysql_insert(place_counts)
        statement = on_mysql.on_duplicate_key_update(
            orders=place_counts.c.orders + on_mysql.inserted.orders
        )
    connection.execute(statement, rows)


def _add(connection: Connection, key: Column[Any], changes: Mapping[Any, int]) -> int:
    """Add `changes` to the rows keyed by `key`; how many rows there were to change."""
    if not changes:
        return 0
    table = key.table
    result = connection.execute(
        update(table)
        .where(key.in_(changes))
        .values(orders=table.c.orders + case(changes, value=key))
    )
    return int(result.rowcount)


@frozen
class OrderCounts:
    """Orders created at or before an instant, by current status (None: no event yet)
    and by current place (None: no event yet)."""

    by_status: Counter[str | None]
    by_place: Counter[int | None]


# Orders created after a slot, by status: read from this index alone (migration 0009).
BY_PLACE_AND_TIME = "ix_orders_current_location_id_created_at_current_status"


def counts_as_of(connection: Connection, as_of: datetime) -> OrderCounts:
    """Orders created at or before `as_of`, by current status and by current place.

    The stored counts hold every order; those created after `as_of` are taken away.
    Four queries: call it inside a transaction that reads one snapshot (as the
    report does), or an order that moves between them may be counted wrongly.
    """
    by_status: Counter[str | None] = Counter(
        {
            None if status == NO_STATUS else status: int(count)
            for status, count in connection.execute(
                select(status_counts.c.status, status_counts.c.orders)
            )
        }
    )
    by_place: Counter[int | None] = Counter(
        {
            None if key == NO_PLACE else int(key): int(count)
            for key, count in connection.execute(
                select(place_counts.c.place, place_counts.c.orders)
            )
        }
    )
    # Orders created after the slot: a range of (current_location_id, created_at,
    # current_status) for each place an order may be at, the places read from that index
    # first. orders has no index on created_at alone (migration 0009): every /fake call
    # wrote random entries into it, most of them a page read from disk. MariaDB is told
    # the index: for a window of most orders it chose to read every row through the
    # status index instead, far slower (see docs/performance.md, "Where the time goes").
    places = connection.execute(select(orders.c.current_location_id).distinct()).scalars().all()
    located = [key for key in places if key is not None]
    anywhere: ColumnElement[bool] = orders.c.current_location_id.is_(None)
    if located:
        anywhere = anywhere | orders.c.current_location_id.in_(located)
    hint = f"FORCE INDEX ({BY_PLACE_AND_TIME})"
    later = connection.execute(
        select(orders.c.current_location_id, orders.c.current_status, func.count())
        .with_hint(orders, hint, dialect_name="mysql")
        .with_hint(orders, hint, dialect_name="mariadb")
        .where(anywhere, orders.c.created_at > as_of)
        .group_by(orders.c.current_location_id, orders.c.current_status)
    ).all()
    for key, status, count in later:
        by_status[status] -= int(count)
        by_place[key] -= int(count)
    for name, counts in (("status_counts", by_status), ("place_counts", by_place)):
        if any(count < 0 for count in counts.values()):
            log.error(
                "%s disagree with the orders (%s): run `logistic recount`", name, dict(counts)
            )
    return OrderCounts(+by_status, +by_place)


@frozen
class Recount:
    """What `recount` found: the orders by status and by place, and how many stored
    counts it had to change."""

    by_status: dict[str, int]
    by_place: dict[int, int]
    corrected: int


def recount(engine: Engine) -> Recount:
    """Make status_counts and place_counts equal to the orders; StorageUnavailable when
    the database fails, DomainError when orders hold a status no migration knows.

    Safe while writers run. First, in a transaction of its own, every place an order
    is at or the catalog holds gets a row, so that every writer has a row to wait on.
    Then every counter row is locked, in the writers' order: a writer that committed
    before is in the counts read after, and one that has not has its orders changes
    unseen and its counts changes waiting for these locks, to be added after this
    transaction commits.
    """
    with storage_errors("recounting the orders"):
        in_transaction(engine, _make_every_place)
        return in_transaction(engine, _recount)


def _make_every_place(connection: Connection) -> None:
    at = connection.execute(select(orders.c.current_location_id).distinct()).scalars()
    catalog = connection.execute(select(locations.c.id)).scalars()
    make_places(connection, {place(key) for key in at} | set(catalog) | {NO_PLACE})


def _recount(connection: Connection) -> Recount:
    locked_statuses = connection.execute(
        select(status_counts.c.status, status_counts.c.orders)
        .order_by(status_counts.c.status)
        .with_for_update()
    ).all()
    locked_places = connection.execute(
        select(place_counts.c.place, place_counts.c.orders)
        .order_by(place_counts.c.place)
        .with_for_update()
    ).all()
    by_status = {
        NO_STATUS if key is None else str(key): count
        for key, count in _counted(connection, orders.c.current_status).items()
    }
    by_place = {
        place(key): count
        for key, count in _counted(connection, orders.c.current_location_id).items()
    }
    stored_statuses = {str(key): int(count) for key, count in locked_statuses}
    stored_places = {int(key): int(count) for key, count in locked_places}
    unknown = set(by_status) - set(stored_statuses)
    if unknown:
        raise DomainError(
            f"orders hold statuses no migration knows, {sorted(unknown)}: correct those orders"
            " (orders.current_status), then recount"
        )
    status_fixes = _differences(by_status, stored_statuses)
    place_fixes = _differences(by_place, stored_places)
    add_to_counts(connection, status_fixes, place_fixes)
    return Recount(
        {key: count for key, count in by_status.items() if count},
        {key: count for key, count in by_place.items() if count},
        len(status_fixes) + len(place_fixes),
    )


def _differences(counted: Mapping[Key, int], stored: Mapping[Key, int]) -> dict[Key, int]:
    """What to add to each stored count (0 when absent) to make it the counted one."""
    return {
        key: counted.get(key, 0) - stored.get(key, 0)
        for key in stored.keys() | counted.keys()
        if counted.get(key, 0) != stored.get(key, 0)
    }


def _counted(connection: Connection, column: Column[Any]) -> dict[Any, int]:
    """The orders by `column` (grouped by the column itself, as MySQL's
    ONLY_FULL_GROUP_BY wants)."""
    rows = connection.execute(select(column, func.count()).group_by(column))
    return {key: int(count) for key, count in rows}
