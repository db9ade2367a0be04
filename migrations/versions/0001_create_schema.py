"""create schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def utc_datetime() -> sa.types.TypeEngine[object]:
    """Naive UTC with microseconds (the adapter converts at its boundary)."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("city", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("region", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        "recipients",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recipients"),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        "orders",
        sa.Column("sno", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("origin_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("promised_by", utc_datetime(), nullable=False),
        sa.Column("current_status", sa.String(32), nullable=True),
        sa.Column("current_location_id", sa.Integer(), nullable=True),
        sa.Column("last_event_at", utc_datetime(), nullable=True),
        sa.Column("delivered_at", utc_datetime(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.PrimaryKeyConstraint("sno", name="pk_orders"),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["recipients.id"], name="fk_orders_recipient_id_recipients"
        ),
        sa.ForeignKeyConstraint(
            ["origin_id"], ["locations.id"], name="fk_orders_origin_id_locations"
        ),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["locations.id"], name="fk_orders_destination_id_locations"
        ),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_orders_current_status_last_event_at", "orders", ["current_status", "last_event_at"]
    )
    op.create_index("ix_orders_current_location_id", "orders", ["current_location_id"])
    op.create_index("ix_orders_delivered_at", "orders", ["delivered_at"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_table(
        "tracking_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("order_sno", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", utc_datetime(), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
        sa.ForeignKeyConstraint(
            ["order_sno"], ["orders.sno"], name="fk_tracking_events_order_sno_orders"
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name="fk_tracking_events_location_id_locations"
        ),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_tracking_events_order_sno_occurred_at_id",
        "tracking_events",
        ["order_sno", "occurred_at", "id"],
    )
    op.create_table(
        "sequences",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_sequences"),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("sequences")
    op.drop_table("tracking_events")
    op.drop_table("orders")
    op.drop_table("recipients")
    op.drop_table("locations")
