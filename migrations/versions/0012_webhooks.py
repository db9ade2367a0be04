"""webhooks: subscriptions, the outbox of messages, and each delivery attempt

Empty tables: nothing is read from the others. The outbox rows are written in the
transaction of the change they report (see adapters/sql/webhook_outbox.py); a
release before this one writes none, which loses nothing it ever promised.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _moment() -> sa.types.TypeEngine[object]:
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _key() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("statuses", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("previous_secret", sa.String(64), nullable=True),
        sa.Column("previous_until", _moment(), nullable=True),
        sa.Column("pii", sa.Boolean(), nullable=False),
        sa.Column("created_at", _moment(), nullable=False),
        sa.Column("failing_since", _moment(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
        **_OPTIONS,
    )
    op.create_table(
        "webhook_messages",
        sa.Column("id", _key(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(32), nullable=False),
        sa.Column("sno", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column(
            "body",
            sa.LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _moment(), nullable=False),
        sa.Column("due_at", _moment(), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("finished_at", _moment(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_messages"),
        **_OPTIONS,
    )
    # The claims read the due messages; the order check, a subscription's messages of a
    # shipment; the listing, a subscription's latest; the purge, the finished ones.
    op.create_index("ix_webhook_messages_due_at", "webhook_messages", ["due_at"])
    op.create_index(
        "ix_webhook_messages_subscription_id_sno_id",
        "webhook_messages",
        ["subscription_id", "sno", "id"],
    )
    op.create_index(
        "ix_webhook_messages_subscription_id_created_at",
        "webhook_messages",
        ["subscription_id", "created_at"],
    )
    op.create_index("ix_webhook_messages_finished_at", "webhook_messages", ["finished_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", _key(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("attempted_at", _moment(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        **_OPTIONS,
    )
    op.create_index("ix_webhook_attempts_message_id_id", "webhook_attempts", ["message_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_messages")
    op.drop_table("webhook_subscriptions")
