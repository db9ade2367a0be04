"""orders.snapshot: the recipient and the events of an order, in its own row

A /query miss read an order from three tables, three pages; at a million orders
most of them came from disk into Debian's 128 MiB buffer pool. The snapshot lets
it read one row (see adapters/sql/snapshot.py, which says when one is used).

The column is added (instant on MariaDB 10.3 and later, whatever the size of the
data), then the orders already stored are given theirs, built from the tables by
the database's own JSON functions: on MariaDB in statements of 20,000 orders, each
committed on its own, so a writer waits for one batch at most. A migration
stopped half-way loses nothing: an order without a snapshot is read from the
tables, as before, and the next `logistic migrate` runs this revision again,
which finds the column there and fills only the orders still without one. A
batch leaves an order alone when an event was appended to it since the batch
read its events (its next event writes its snapshot).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 20_000
# adapters/sql/snapshot.py's bounds, as this revision knows them: a longer history gets
# no snapshot (its JSON would also outgrow group_concat_max_len, which strict mode
# makes an error, not a cut).
MAX_EVENTS = 500
MAX_CHARS = 65_536

_MARIADB = """
UPDATE orders
JOIN recipients ON recipients.id = orders.recipient_id
LEFT JOIN (
    SELECT order_sno, COUNT(*) AS events,
        JSON_ARRAYAGG(JSON_ARRAY(
            id, status, location_id,
            DATE_FORMAT(occurred_at, '%Y-%m-%d %H:%i:%s.%f'), note
        )) AS history
    FROM tracking_events
    WHERE order_sno IN (
        SELECT sno FROM orders
        WHERE sno BETWEEN :low AND :high AND event_count <= :max_events
    )
    GROUP BY order_sno
) AS stored ON stored.order_sno = orders.sno
SET orders.snapshot = JSON_OBJECT(
    'recipient', JSON_ARRAY(recipients.name, recipients.phone, recipients.address),
    'events', COALESCE(stored.history, JSON_ARRAY())
)
WHERE orders.sno BETWEEN :low AND :high
    AND orders.snapshot IS NULL
    AND orders.event_count <= :max_events
    AND orders.event_count = COALESCE(stored.events, 0)
"""

# A snapshot longer than the bound is taken back, on either back end: the same bound
# on the text stored as the service's (MariaDB's JSON is spaced, Python's is not).
_TOO_LONG = "UPDATE orders SET snapshot = NULL WHERE {where} {length}(snapshot) > :max_chars"

_SQLITE = """
UPDATE orders SET snapshot = (
    SELECT json_object(
        'recipient', json_array(recipients.name, recipients.phone, recipients.address),
        'events', (
            SELECT json_group_array(json_array(
                tracking_events.id, tracking_events.status, tracking_events.location_id,
                tracking_events.occurred_at, tracking_events.note
            ))
            FROM tracking_events WHERE tracking_events.order_sno = orders.sno
        )
    )
    FROM recipients WHERE recipients.id = orders.recipient_id
)
WHERE snapshot IS NULL AND event_count <= :max_events
"""


def upgrade() -> None:
    connection = op.get_bind()
    if "snapshot" not in {
        column["name"] for column in sa.inspect(connection).get_columns("orders")
    }:
        op.add_column(
            "orders",
            sa.Column(
                "snapshot",
                sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"),
                nullable=True,
            ),
        )
    if connection.dialect.name == "sqlite":
        op.execute(sa.text(_SQLITE).bindparams(max_events=MAX_EVENTS))
        too_long = _TOO_LONG.format(where="", length="length")  # characters on SQLite
        op.execute(sa.text(too_long).bindparams(max_chars=MAX_CHARS))
        return
    # Each batch committed on its own, on a connection of its own: the migration's
    # runs in one transaction (the DDL above has committed already on MariaDB).
    with connection.engine.connect() as batches:
        # JSON_ARRAYAGG stops at group_concat_max_len (1 MiB by default); MAX_EVENTS
        # events of the longest notes stay well below this.
        batches.exec_driver_sql("SET SESSION group_concat_max_len = 16777216")
        low, high = batches.execute(sa.text("SELECT MIN(sno), MAX(sno) FROM orders")).one()
        batches.commit()
        if low is None:
            return
        statement = sa.text(_MARIADB)
        too_long = sa.text(
            _TOO_LONG.format(where="sno BETWEEN :low AND :high AND", length="CHAR_LENGTH")
        )
        for start in range(int(low), int(high) + 1, BATCH):
            batch = {"low": start, "high": start + BATCH - 1}
            batches.execute(statement, {**batch, "max_events": MAX_EVENTS})
            batches.execute(too_long, {**batch, "max_chars": MAX_CHARS})
            batches.commit()


def downgrade() -> None:
    op.drop_column("orders", "snapshot")
