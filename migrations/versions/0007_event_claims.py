"""event_claims: the Idempotency-Key claim each event was appended with

A request with an Idempotency-Key used to append its event, then keep its answer
in a second transaction: a process that died between the two left the key
unanswered, and the retry that took it over after the lease appended the event a
second time. The claim (the key and the request's fingerprint) is now written
in the event's own transaction, and a retry that finds it answers from the
stored shipment instead. A new, empty table: instant on any size of data.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "event_claims",
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column(
            "claimed_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("order_sno", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_digest", name="pk_event_claims"),
        **MYSQL_OPTIONS,
    )
    op.create_index("ix_event_claims_claimed_at", "event_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("event_claims")
