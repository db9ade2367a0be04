"""The logistics centers in a relational database (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.status_counts import make_places, place
from logistic.adapters.sql.tables import locations
from logistic.adapters.sql.transactions import in_transaction
from logistic.domain.model import Location, Region

# Two syncs racing (every replica runs `logistic migrate`): the loser's INSERT fails.
_SYNC_ATTEMPTS = 3


class SqlLocationCatalog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def all(self) -> tuple[Location, ...]:
        with storage_errors(), self._engine.connect() as connection:
            rows = connection.execute(select(locations).order_by(locations.c.id)).all()
        return tuple(_location(row) for row in rows)

    def sync(self, wanted: Sequence[Location]) -> None:
        by_id = {location.id: location for location in wanted}
        if not by_id:
            return
        with storage_errors():
            for attempt in range(1, _SYNC_ATTEMPTS + 1):
                try:
                    in_transaction(self._engine, lambda c: _sync_locations(c, by_id))
                    return
                except IntegrityError:
                    # Another process inserted the same centers first: look again.
                    if attempt == _SYNC_ATTEMPTS:
                        raise


def _sync_locations(connection: Connection, by_id: dict[int, Location]) -> None:
    stored = {
        row.id: _location(row)
        for row in connection.execute(select(locations).where(locations.c.id.in_(by_id))).all()
    }
    missing = [_location_row(loc) for key, loc in by_id.items() if key not in stored]
    changed = [
        {**_location_fields(loc), "location_id": key}
        for key, loc in by_id.items()
        if key in stored and stored[key] != loc
    ]
    if missing:
        connection.execute(insert(locations), missing)
        # Their rows in place_counts, so that the first orders there find them made.
        make_places(connection, [place(None), *(key for key in by_id if key not in stored)])
    if changed:
        connection.execute(
            update(locations).where(locations.c.id == bindparam("location_id")), changed
        )


def _location(row: Row[Any]) -> Location:
    return Location(row.id, row.title, row.city, row.address, Region(row.region))


def _location_row(location: Location) -> dict[str, Any]:
    return {"id": location.id, **_location_fields(location)}


def _location_fields(location: Location) -> dict[str, Any]:
    return {
        "title": location.title,
        "city": location.city,
        "address": location.address,
        "region": location.region.value,
    }
