"""Many orders in one read (POST /query): their rows by an IN list, each shipment from its
snapshot (adapters/sql/snapshot.py); and the event counts of many orders in one read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.reads import read
from logistic.adapters.sql.snapshot import from_snapshot
from logistic.adapters.sql.tables import MAX_KEY, ORDER_SNAPSHOT_COLUMNS, orders
from logistic.domain.model import Shipment

_ORDER_ROWS = select(*ORDER_SNAPSHOT_COLUMNS).where(
    orders.c.sno.in_(bindparam("snos", expanding=True))
)

_EVENT_COUNTS = select(orders.c.sno, orders.c.event_count).where(
    orders.c.sno.in_(bindparam("snos", expanding=True))
)


def _keys(snos: Sequence[int]) -> list[int]:
    return sorted({sno for sno in snos if 0 < sno <= MAX_KEY})


def read_shipments(
    replica: Engine,
    reader: Engine,
    snos: Sequence[int],
    one: Callable[[int], Shipment | None],
) -> dict[int, Shipment]:
    """The shipments of `snos` found, by sno: their rows read on `replica` in one round
    trip; the snos it lacks read again on `reader` (an order created a moment ago may
    not have reached the replica yet), and each order whose snapshot is missing or
    behind read alone by `one` (the repository's `get`)."""
    wanted = _keys(snos)
    if not wanted:
        return {}
    found, stale = _from_rows(replica, wanted)
    lacking = [sno for sno in wanted if sno not in found and sno not in stale]
    if lacking and replica is not reader:
        more, more_stale = _from_rows(reader, lacking)
        found.update(more)
        stale += more_stale
    for sno in stale:
        shipment = one(sno)
        if shipment is not None:
            found[sno] = shipment
    return found


def _from_rows(engine: Engine, snos: list[int]) -> tuple[dict[int, Shipment], list[int]]:
    """The shipments built from their snapshots, and the snos of the rows without one."""
    with storage_errors():
        rows = read(
            engine, lambda connection: connection.execute(_ORDER_ROWS, {"snos": snos}).all()
        )
    found: dict[int, Shipment] = {}
    stale = []
    for row in rows:
        *order, event_count, text = row
        shipment = from_snapshot(order, event_count, text)
        if shipment is None:
            stale.append(row[0])
        else:
            found[row[0]] = shipment
    return found, stale


def read_event_counts(reader: Engine, snos: Sequence[int]) -> dict[int, int]:
    """The event count of each order of `snos` found on `reader`, by sno."""
    wanted = _keys(snos)
    if not wanted:
        return {}
    with storage_errors():
        rows = read(
            reader, lambda connection: connection.execute(_EVENT_COUNTS, {"snos": wanted}).all()
        )
    return {int(sno): int(count) for sno, count in rows}
