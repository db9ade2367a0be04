"""Idempotency keys in the service's database, next to the events they protect."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import idempotency_keys
from logistic.domain.errors import IdempotencyConflict, IdempotencyKeyReused
from logistic.ports.idempotency import Answer

_TABLE = idempotency_keys.c
# A claim lost to a purge between our INSERT and SELECT is simply made again.
_CLAIM_ATTEMPTS = 3


class SqlIdempotencyKeys:
    def __init__(self, engine: Engine) -> None:
        self._writer = writer(engine)

    def claim(self, key: str, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
        with storage_errors():
            for _ in range(_CLAIM_ATTEMPTS):
                if self._insert(key, fingerprint, now):
                    return None
                with self._writer.begin() as connection:
                    row = connection.execute(
                        select(
                            _TABLE.fingerprint, _TABLE.claimed_at, _TABLE.status_code, _TABLE.body
                        )
                        .where(_TABLE.key_digest == key)
                        .with_for_update()
                    ).first()
                    if row is None:
                        continue
                    answer = _held(row, fingerprint, now, lease)
                    if answer is not None:
                        return answer
                    connection.execute(
                        update(idempotency_keys)
                        .where(_TABLE.key_digest == key)
                        .values(claimed_at=now)
                    )
                    return None
        raise IdempotencyConflict("the Idempotency-Key could not be claimed; retry")

    def complete(self, key: str, answer: Answer) -> None:
        with storage_errors(), self._writer.begin() as connection:
            connection.execute(
                update(idempotency_keys)
                .where(_TABLE.key_digest == key)
                .values(status_code=answer.status, body=answer.body)
            )

    def release(self, key: str) -> None:
        with storage_errors(), self._writer.begin() as connection:
            connection.execute(
                delete(idempotency_keys).where(
                    _TABLE.key_digest == key, _TABLE.status_code.is_(None)
                )
            )

    def purge(self, before: datetime) -> int:
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(delete(idempotency_keys).where(_TABLE.claimed_at < before))
            return int(result.rowcount)

    def _insert(self, key: str, fingerprint: str, now: datetime) -> bool:
        try:
            with self._writer.begin() as connection:
                connection.execute(
                    insert(idempotency_keys).values(
                        key_digest=key, fingerprint=fingerprint, claimed_at=now
                    )
                )
        except IntegrityError:
            return False
        return True


def _held(row: Any, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
    """The stored answer; None when the claim was abandoned and may be taken over."""
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was sent with another request")
    if row.status_code is not None:
        return Answer(int(row.status_code), bytes(row.body))
    if now < row.claimed_at + lease:
        raise IdempotencyConflict("a request with this Idempotency-Key is in progress")
    return None
