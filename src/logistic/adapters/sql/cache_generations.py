"""The CacheGenerations port on the sequences table: one row, `cache.generation`."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import sequences

CACHE_GENERATION = "cache.generation"


class SqlCacheGenerations:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def current(self) -> int:
        with storage_errors(), self._engine.connect() as connection:
            value = connection.execute(
                select(sequences.c.next_value).where(sequences.c.name == CACHE_GENERATION)
            ).scalar_one_or_none()
        return 0 if value is None else int(value)

    def advance(self) -> None:
        with storage_errors():
            with self._writer.begin() as connection:
                changed = connection.execute(
                    update(sequences)
                    .where(sequences.c.name == CACHE_GENERATION)
                    .values(next_value=sequences.c.next_value + 1)
                ).rowcount
            if changed:
                return
            try:
                with self._writer.begin() as connection:
                    connection.execute(
                        insert(sequences).values(name=CACHE_GENERATION, next_value=1)
                    )
            except IntegrityError:
                # Another process made the row first: advance it as it now stands.
                with self._writer.begin() as connection:
                    connection.execute(
                        update(sequences)
                        .where(sequences.c.name == CACHE_GENERATION)
                        .values(next_value=sequences.c.next_value + 1)
                    )
