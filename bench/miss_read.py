"""What a /query miss's read costs the service's CPU, and what other ways of running it would.

    .venv-bench/bin/python -m bench.miss_read \
        mysql+mysqldb://root@127.0.0.1/logistic_bench [--reads 6000]

In this process, against a seeded database (the bench's), one connection of the
read engine the service uses. For each of `--reads` random snos every variant
reads the same order, in a shuffled order, and its CPU time (`process_time`:
this process only, MariaDB's work is not counted) is added up:

* repository.get: the service's read as shipped (pool checkout included);
* held connection: the repository's own read (`load_shipment`: the statement on the
  driver's cursor, errors translated as Core would) on a Connection kept open;
* Core execute: the same statement executed by Core on that Connection;
* exec_driver_sql: the statement compiled once, run as a string through the
  Connection (Core's execution context and result, no compilation or types);
* DBAPI cursor: the bare cursor, as `load_shipment` uses it minus its error handling.

Prints each variant's CPU per read and its ratio to repository.get. Every
variant's Shipment is checked equal to the repository's for a few snos first.
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from logistic.adapters.sql.engine import create_read_engine
from logistic.adapters.sql.repository import SHIPMENT, SqlShipmentRepository, load_shipment
from logistic.domain.model import Recipient, Shipment, TrackingEvent
from logistic.domain.status import Status

_STATUS = {status.value: status for status in Status}


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def by_index(rows: Sequence[Sequence[Any]]) -> Shipment | None:
    """The Shipment of the statement's rows, read by position."""
    if not rows:
        return None
    sno, origin, destination, created, promised, recipient, name, phone, address = rows[0][:9]
    events = sorted((row for row in rows if row[9] is not None), key=itemgetter(9))
    return Shipment(
        sno=sno,
        recipient=Recipient(recipient, name, phone, address),
        origin_id=origin,
        destination_id=destination,
        created_at=_utc(created),
        promised_by=_utc(promised),
        events=tuple(
            TrackingEvent(_STATUS[row[10]], row[11], _utc(row[12]), id=row[9], note=row[13])
            for row in events
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--reads", type=int, default=6000)
    args = parser.parse_args()
    engine = create_read_engine(args.url)
    if engine is None:
        raise SystemExit("a MariaDB/MySQL URL, please")
    repository = SqlShipmentRepository(engine)
    highest = repository.count()
    sql = str(SHIPMENT.compile(dialect=engine.dialect))
    with engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def dbapi_cursor(sno: int) -> Shipment | None:
            cursor.execute(sql, (sno,))
            return by_index(cursor.fetchall())

        variants: dict[str, Callable[[int], Shipment | None]] = {
            "repository.get": repository.get,
            "held connection": lambda sno: load_shipment(connection, sno),
            "Core execute": lambda sno: by_index(connection.execute(SHIPMENT, {"sno": sno}).all()),
            "exec_driver_sql": lambda sno: by_index(connection.exec_driver_sql(sql, (sno,)).all()),
            "DBAPI cursor": dbapi_cursor,
        }
        for sno in (1, highest // 2, highest):
            found = {name: read(sno) for name, read in variants.items()}
            assert len(set(map(repr, found.values()))) == 1, f"variants disagree on {sno}"
        rng = random.Random(11)
        spent: collections.Counter[str] = collections.Counter()
        for _ in range(args.reads):
            sno = rng.randint(1, highest)
            names = list(variants)
            rng.shuffle(names)
            for name in names:
                started = time.process_time()
                variants[name](sno)
                spent[name] += time.process_time() - started
    base = spent["repository.get"]
    print(f"{args.reads} reads of random orders out of {highest:,}; CPU of this process per read")
    for name in variants:
        print(f"  {name:16} {spent[name] / args.reads * 1e6:6.0f} µs  {spent[name] / base:.2f}x")


if __name__ == "__main__":
    main()
