"""lane_stats: each lane's transit-time percentiles; the delivered index covers the lanes

The scheduler writes a row per lane (origin centre, destination centre) at every
report slot, from the orders delivered in the 90 days before it: their count and
the 5th, 50th and 95th percentiles of their transit time in hours. The index on
(delivered_at, created_at, promised_by) gains origin_id and destination_id, so
those figures are read from the index alone, as the report's are; the new index
replaces the old, whose every use it serves (a write still updates one index).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "ix_orders_delivered_at_created_at_promised_by"
_NEW = "ix_orders_delivered_at_lanes"
_HOURS = sa.Float().with_variant(mysql.DOUBLE(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "lane_stats",
        sa.Column("origin_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.BigInteger(), nullable=False),
        sa.Column("p05_hours", _HOURS, nullable=False),
        sa.Column("p50_hours", _HOURS, nullable=False),
        sa.Column("p95_hours", _HOURS, nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("origin_id", "destination_id", name="pk_lane_stats"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.create_index(
        _NEW,
        "orders",
        ["delivered_at", "created_at", "promised_by", "origin_id", "destination_id"],
    )
    op.drop_index(_OLD, table_name="orders")


def downgrade() -> None:
    op.create_index(_OLD, "orders", ["delivered_at", "created_at", "promised_by"])
    op.drop_index(_NEW, table_name="orders")
    op.drop_table("lane_stats")
