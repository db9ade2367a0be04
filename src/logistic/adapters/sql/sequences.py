"""The sequences table: blocks of snos, recipient ids and event ids handed out to writers,
so that concurrent writers never share one and a whole batch needs a single allocation."""

from __future__ import annotations

from sqlalchemy import Column, case, func, insert, literal_column, select, update
from sqlalchemy.engine import Connection

from logistic.adapters.sql.tables import orders, recipients, sequences, tracking_events

SNO_SEQUENCE = "orders.sno"
RECIPIENT_SEQUENCE = "recipients.id"
EVENT_SEQUENCE = "tracking_events.id"


def reserve(connection: Connection, orders_wanted: int, events_wanted: int) -> tuple[int, ...]:
    """The first sno, recipient id and event id of the blocks reserved for `orders_wanted`
    orders (a recipient each) and `events_wanted` events, in the caller's transaction."""
    return _take_many(
        connection,
        (SNO_SEQUENCE, orders.c.sno, orders_wanted),
        (RECIPIENT_SEQUENCE, recipients.c.id, orders_wanted),
        (EVENT_SEQUENCE, tracking_events.c.id, events_wanted),
    )


def _take_many(connection: Connection, *wanted: tuple[str, Column[int], int]) -> tuple[int, ...]:
    """`take` for several sequences: the first value of each block, in the order
    asked, in one locking read and one update (two round trips, not two per sequence)."""
    names = [name for name, _, _ in wanted]
    rows = connection.execute(
        select(sequences.c.name, sequences.c.next_value)
        .where(sequences.c.name.in_(names))
        .order_by(sequences.c.name)  # rows locked in one order by every writer
        .with_for_update()
    )
    current = {name: int(value) for name, value in rows}
    if len(current) < len(wanted):
        # A row missing (the migrations make them all since 0011; one deleted by hand):
        # the missing rows are made one by one, each after what is already stored.
        return tuple(take(connection, name, column, count) for name, column, count in wanted)
    counts = {name: count for name, _, count in wanted}
    connection.execute(
        update(sequences)
        .where(sequences.c.name.in_(names))
        .values(
            next_value=sequences.c.next_value
            + case(counts, value=sequences.c.name, else_=literal_column("0"))
        )
    )
    return tuple(current[name] for name in names)


def take(connection: Connection, name: str, column: Column[int], count: int) -> int:
    """The first of `count` values reserved from the sequence `name`, whose values
    `column` stores; a new sequence starts after the highest value stored there.

    Two first allocations racing on MariaDB: the loser's INSERT of the sequence row
    fails (IntegrityError), and its caller tries again.
    """
    current = connection.execute(
        select(sequences.c.next_value).where(sequences.c.name == name).with_for_update()
    ).scalar_one_or_none()
    if current is None:
        # First allocation: start after whatever is already stored.
        current = connection.execute(select(func.coalesce(func.max(column), 0) + 1)).scalar_one()
        connection.execute(insert(sequences).values(name=name, next_value=current + count))
    else:
        connection.execute(
            update(sequences).where(sequences.c.name == name).values(next_value=current + count)
        )
    return int(current)
