"""orders: one index on (delivered_at, created_at, promised_by) for the reports

The recent-delivery count, the transit-time histogram and the on-time rate then
read this index alone instead of every delivered order's row; it replaces the
index on delivered_at, whose every use it serves.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_delivered_at_created_at_promised_by",
        "orders",
        ["delivered_at", "created_at", "promised_by"],
    )
    op.drop_index("ix_orders_delivered_at", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_delivered_at", "orders", ["delivered_at"])
    op.drop_index("ix_orders_delivered_at_created_at_promised_by", table_name="orders")
