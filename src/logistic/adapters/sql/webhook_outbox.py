"""The webhook outbox in the database: messages, their claims by dispatchers, attempts.

A claim is one short transaction: the due rows are locked with SELECT ... FOR UPDATE
SKIP LOCKED (MariaDB; SQLite has one writer at a time), so concurrent dispatchers take
different rows, and each claimed row is moved due past its lease and marked with the
claim's token. The sending happens after the commit, with no lock held.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import storage_errors
from logistic.adapters.sql.tables import webhook_attempts, webhook_messages, webhook_subscriptions
from logistic.adapters.sql.webhook_subscriptions import subscription_from_row
from logistic.domain.webhook import (
    FAILING_LIMIT,
    Attempt,
    Delivery,
    Message,
    MessageStatus,
    NewMessage,
)
from logistic.ports.webhook_outbox import Outcome

# A claim looks at this many due rows per message it may take: rows waiting behind an
# earlier message of their shipment are passed over (and put off until it is done).
_WINDOW = 4
_FINAL = (MessageStatus.DELIVERED.value, MessageStatus.DEAD.value)
_m = webhook_messages


def insert_messages(connection: Connection, messages: Sequence[NewMessage]) -> None:
    """Write `messages` in `connection`'s transaction, due at once: one executemany of a
    cached statement, which the driver sends as one multi-row INSERT."""
    if not messages:
        return
    connection.execute(
        insert(_m),
        [
            {
                "subscription_id": message.subscription_id,
                "sno": message.sno,
                "type": message.type,
                "body": message.body,
                "status": MessageStatus.PENDING.value,
                "attempts": 0,
                "created_at": message.created_at,
                "due_at": message.created_at,
            }
            for message in messages
        ],
    )


def _message(row: Any, history: tuple[Attempt, ...] = ()) -> Message:
    return Message(
        id=row.id,
        subscription_id=row.subscription_id,
        sno=row.sno,
        type=row.type,
        body=bytes(row.body),
        created_at=row.created_at,
        status=MessageStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.due_at,
        history=history,
    )


class SqlWebhookOutbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = writer(engine)

    def add(self, messages: Sequence[NewMessage]) -> None:
        with storage_errors(), self._writer.begin() as connection:
            insert_messages(connection, messages)

    def claim(
        self,
        now: datetime,
        limit: int,
        lease: timedelta,
        token: str,
        busy: Collection[str] = (),
        each: int | None = None,
    ) -> list[Delivery]:
        with storage_errors(), self._writer.begin() as connection:
            endpoints = {
                row.id: subscription_from_row(row)
                for row in connection.execute(
                    select(webhook_subscriptions).where(webhook_subscriptions.c.enabled)
                )
                if row.id not in busy
            }
            if not endpoints:
                return []
            rows = connection.execute(
                select(_m)
                .where(_m.c.due_at <= now, _m.c.subscription_id.in_(list(endpoints)))
                .order_by(_m.c.due_at, _m.c.id)
                .limit(limit * _WINDOW)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return []
            heads = self._heads(connection, {(row.subscription_id, row.sno) for row in rows})
            taken = _within(
                [row for row in rows if heads.get((row.subscription_id, row.sno)) == row.id],
                limit,
                each,
            )
            waiting = [
                row.id for row in rows if heads.get((row.subscription_id, row.sno)) != row.id
            ]
            if waiting:
                # Behind an unfinished message of their shipment: out of the next claims'
                # way until it is done (finish makes them due again).
                connection.execute(
                    update(_m).where(_m.c.id.in_(waiting)).values(due_at=now + lease)
                )
            if taken:
                connection.execute(
                    update(_m)
                    .where(_m.c.id.in_([row.id for row in taken]))
                    .values(due_at=now + lease, claim_token=token)
                )
        return [
            Delivery(
                _message(row),
                endpoints[row.subscription_id].url,
                endpoints[row.subscription_id].signing_secrets(now),
                token,
            )
            for row in taken
        ]

    @staticmethod
    def _heads(connection: Connection, pairs: set[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """The first unfinished message of each (subscription, shipment): one read per
        subscription, on the index of (subscription_id, sno, id)."""
        heads: dict[tuple[str, int], int] = {}
        for subscription_id, snos in _by_subscription(pairs).items():
            query = (
                select(_m.c.sno, func.min(_m.c.id))
                .where(
                    _m.c.subscription_id == subscription_id,
                    _m.c.sno.in_(snos),
                    _m.c.due_at.is_not(None),
                )
                .group_by(_m.c.sno)
            )
            heads.update(
                ((subscription_id, sno), first) for sno, first in connection.execute(query)
            )
        return heads

    def release(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        if not deliveries:
            return
        with storage_errors(), self._writer.begin() as connection:
            connection.execute(
                update(_m)
                .where(_m.c.id == bindparam("message_id"), _m.c.claim_token == bindparam("token"))
                .values(due_at=now, claim_token=None),
                [{"message_id": d.message.id, "token": d.token} for d in deliveries],
            )

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        if not outcomes:
            return 0
        delivered = [o for o in outcomes if o.status is MessageStatus.DELIVERED]
        others = [o for o in outcomes if o.status is not MessageStatus.DELIVERED]
        recorded = 0
        with storage_errors(), self._writer.begin() as connection:
            # The usual case in one statement per claim: delivered, by primary key.
            for token, ids in _ids_by_token(delivered).items():
                recorded += connection.execute(
                    update(_m)
                    .where(_m.c.id.in_(ids), _m.c.claim_token == token)
                    .values(
                        status=MessageStatus.DELIVERED.value,
                        attempts=_m.c.attempts + 1,
                        due_at=None,
                        claim_token=None,
                        finished_at=max(o.attempt.at for o in delivered),
                    )
                ).rowcount
            if others:
                recorded += connection.execute(
                    update(_m)
                    .where(
                        _m.c.id == bindparam("message_id"), _m.c.claim_token == bindparam("token")
                    )
                    .values(
                        status=bindparam("new_status"),
                        attempts=_m.c.attempts + 1,
                        due_at=bindparam("next_at"),
                        claim_token=None,
                        finished_at=bindparam("finished"),
                    ),
                    [_finished_row(outcome) for outcome in others],
                ).rowcount
            connection.execute(
                insert(webhook_attempts),
                [
                    {
                        "message_id": outcome.delivery.message.id,
                        "attempted_at": outcome.attempt.at,
                        "status_code": outcome.attempt.status_code,
                        "latency_ms": outcome.attempt.latency_ms,
                        "answer": outcome.attempt.answer,
                    }
                    for outcome in outcomes
                ],
            )
            _wake_followers(connection, outcomes)
            _endpoint_health(connection, outcomes)
        return int(recorded)

    def messages(
        self,
        subscription_id: str,
        since: datetime,
        status: MessageStatus | None = None,
        limit: int = 100,
    ) -> list[Message]:
        query = (
            select(_m)
            .where(_m.c.subscription_id == subscription_id, _m.c.created_at >= since)
            .order_by(_m.c.id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(_m.c.status == status.value)
        with storage_errors(), self._engine.connect() as connection:
            rows = connection.execute(query).all()
            histories = _histories(connection, [row.id for row in rows])
        return [_message(row, histories.get(row.id, ())) for row in rows]

    def retry(self, subscription_id: str, message_id: int, now: datetime) -> Message | None:
        mine = (_m.c.id == message_id, _m.c.subscription_id == subscription_id)
        with storage_errors(), self._writer.begin() as connection:
            result = connection.execute(
                update(_m)
                .where(*mine)
                .values(
                    status=MessageStatus.PENDING.value,
                    attempts=0,
                    due_at=now,
                    claim_token=None,
                    finished_at=None,
                )
            )
            if not result.rowcount:
                return None
            row = connection.execute(select(_m).where(*mine)).one()
            return _message(row, _histories(connection, [message_id]).get(message_id, ()))

    def oldest_waiting(self) -> datetime | None:
        # Along ix_webhook_messages_finished_at, whose NULL entries are in id order.
        first = select(_m.c.created_at).where(_m.c.finished_at.is_(None)).order_by(_m.c.id)
        with storage_errors(), self._engine.connect() as connection:
            created: datetime | None = connection.execute(first.limit(1)).scalar()
        return created

    def purge(self, before: datetime) -> int:
        old = select(_m.c.id).where(_m.c.finished_at < before, _m.c.status.in_(_FINAL)).limit(5000)
        purged = 0
        with storage_errors():
            while True:
                with self._writer.begin() as connection:
                    ids = list(connection.execute(old).scalars())
                    if not ids:
                        return purged
                    connection.execute(
                        delete(webhook_attempts).where(webhook_attempts.c.message_id.in_(ids))
                    )
                    connection.execute(delete(_m).where(_m.c.id.in_(ids)))
                    purged += len(ids)


def _finished_row(outcome: Outcome) -> dict[str, Any]:
    final = outcome.status.value in _FINAL
    return {
        "message_id": outcome.delivery.message.id,
        "token": outcome.delivery.token,
        "new_status": outcome.status.value,
        "next_at": outcome.next_attempt_at,
        "finished": outcome.attempt.at if final else None,
    }


def _wake_followers(connection: Connection, outcomes: Sequence[Outcome]) -> None:
    """The messages put off behind a delivered or dead one are due again now: found by a
    plain read (no locks), then updated by primary key, and only when there are any."""
    done = [
        (o.delivery.message.subscription_id, o.delivery.message.sno)
        for o in outcomes
        if o.status.value in _FINAL
    ]
    if not done:
        return
    now = max(o.attempt.at for o in outcomes)
    put_off: list[int] = []
    for subscription_id, snos in _by_subscription(set(done)).items():
        put_off += connection.execute(
            select(_m.c.id).where(
                _m.c.subscription_id == subscription_id,
                _m.c.sno.in_(snos),
                _m.c.due_at > now,
                _m.c.claim_token.is_(None),
                _m.c.status == MessageStatus.PENDING.value,
            )
        ).scalars()
    if put_off:
        connection.execute(
            update(_m)
            .where(_m.c.id.in_(put_off), _m.c.claim_token.is_(None), _m.c.due_at > now)
            .values(due_at=now)
        )


def _within(rows: list[Any], limit: int, each: int | None) -> list[Any]:
    """The first `limit` of `rows`, at most `each` of one subscription."""
    taken: list[Any] = []
    per: dict[str, int] = {}
    for row in rows:
        if len(taken) == limit:
            break
        if each is not None and per.get(row.subscription_id, 0) >= each:
            continue
        per[row.subscription_id] = per.get(row.subscription_id, 0) + 1
        taken.append(row)
    return taken


def _by_subscription(pairs: set[tuple[str, int]]) -> dict[str, list[int]]:
    snos: dict[str, list[int]] = {}
    for subscription_id, sno in pairs:
        snos.setdefault(subscription_id, []).append(sno)
    return snos


def _ids_by_token(outcomes: Sequence[Outcome]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    for outcome in outcomes:
        ids.setdefault(outcome.delivery.token, []).append(outcome.delivery.message.id)
    return ids


def _endpoint_health(connection: Connection, outcomes: Sequence[Outcome]) -> None:
    """Per endpoint, its latest outcome of the batch: a success ends a failing streak, a
    failure starts one (five days of them disable it), a 410 disables it."""
    latest: dict[str, Attempt] = {}
    for outcome in outcomes:
        latest[outcome.delivery.message.subscription_id] = outcome.attempt
    subscriptions = webhook_subscriptions.c
    for subscription_id, attempt in latest.items():
        this = subscriptions.id == subscription_id
        if attempt.succeeded:
            connection.execute(
                update(webhook_subscriptions)
                .where(this, subscriptions.failing_since.is_not(None))
                .values(failing_since=None)
            )
            continue
        changes: dict[str, Any] = {
            "failing_since": func.coalesce(subscriptions.failing_since, attempt.at)
        }
        if attempt.gone:
            changes["enabled"] = False
        connection.execute(update(webhook_subscriptions).where(this).values(changes))
        connection.execute(
            update(webhook_subscriptions)
            .where(this, subscriptions.failing_since <= attempt.at - FAILING_LIMIT)
            .values(enabled=False)
        )


def _histories(connection: Connection, ids: list[int]) -> dict[int, tuple[Attempt, ...]]:
    if not ids:
        return {}
    a = webhook_attempts.c
    rows = connection.execute(
        select(webhook_attempts).where(a.message_id.in_(ids)).order_by(a.message_id, a.id)
    )
    found: dict[int, list[Attempt]] = {}
    for row in rows:
        found.setdefault(row.message_id, []).append(
            Attempt(row.attempted_at, row.status_code, row.latency_ms, row.answer)
        )
    return {message_id: tuple(attempts) for message_id, attempts in found.items()}
