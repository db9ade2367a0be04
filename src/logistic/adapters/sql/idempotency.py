"""Idempotency keys in the service's database, next to the events they protect."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import idempotency_keys
from logistic.adapters.sql.transactions import in_transaction
from logistic.domain.errors import IdempotencyConflict, IdempotencyKeyReused
from logistic.ports.idempotency import Answer

_TABLE = idempotency_keys.c
# A claim lost to a purge between our INSERT and SELECT is simply made again.
_CLAIM_ATTEMPTS = 3


class SqlIdempotencyKeys:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, key: str, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
        with storage_errors():
            for _ in range(_CLAIM_ATTEMPTS):
                if self._insert(key, fingerprint, now):
                    return None
                held = in_transaction(
                    self._engine, lambda c: _take_over(c, key, fingerprint, now, lease)
                )
                if held is not _GONE:
                    return held
        raise IdempotencyConflict("the Idempotency-Key could not be claimed; retry")

    def complete(self, key: str, answer: Answer) -> None:
        query = (
            update(idempotency_keys)
            .where(_TABLE.key_digest == key)
            .values(status_code=answer.status, body=answer.body)
        )
        with storage_errors():
            in_transaction(self._engine, lambda c: c.execute(query))

    def release(self, key: str) -> None:
        query = delete(idempotency_keys).where(
            _TABLE.key_digest == key, _TABLE.status_code.is_(None)
        )
        with storage_errors():
            in_transaction(self._engine, lambda c: c.execute(query))

    def purge(self, before: datetime) -> int:
        query = delete(idempotency_keys).where(_TABLE.claimed_at < before)
        with storage_errors():
            return in_transaction(self._engine, lambda c: int(c.execute(query).rowcount))

    def _insert(self, key: str, fingerprint: str, now: datetime) -> bool:
        query = insert(idempotency_keys).values(
            key_digest=key, fingerprint=fingerprint, claimed_at=now
        )
        try:
            in_transaction(self._engine, lambda c: c.execute(query))
        except IntegrityError:
            return False
        return True


# `_take_over` found no row: the claim was purged between our INSERT and SELECT.
_GONE = Answer(0, b"")


def _take_over(
    connection: Connection, key: str, fingerprint: str, now: datetime, lease: timedelta
) -> Answer | None:
    """The stored answer, or None after taking an abandoned claim over; _GONE without a row."""
    row = connection.execute(
        select(_TABLE.fingerprint, _TABLE.claimed_at, _TABLE.status_code, _TABLE.body)
        .where(_TABLE.key_digest == key)
        .with_for_update()
    ).first()
    if row is None:
        return _GONE
    answer = _held(row, fingerprint, now, lease)
    if answer is None:
        connection.execute(
            update(idempotency_keys).where(_TABLE.key_digest == key).values(claimed_at=now)
        )
    return answer


def _held(row: Any, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
    """The stored answer; None when the claim was abandoned and may be taken over."""
    if row.fingerprint != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was sent with another request")
    if row.status_code is not None:
        return Answer(int(row.status_code), bytes(row.body))
    if now < row.claimed_at + lease:
        raise IdempotencyConflict("a request with this Idempotency-Key is in progress")
    return None
