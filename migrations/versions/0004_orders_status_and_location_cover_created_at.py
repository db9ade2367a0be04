"""orders: the status and location indexes also hold created_at, for the reports

A report counts the orders created at or before its slot by current status and
by current location; with created_at in these indexes each count reads one
index alone, however far back the slot is. Each new index replaces the one it
extends, whose every use it serves.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_current_status_last_event_at_created_at",
        "orders",
        ["current_status", "last_event_at", "created_at"],
    )
    op.drop_index("ix_orders_current_status_last_event_at", table_name="orders")
    op.create_index(
        "ix_orders_current_location_id_created_at",
        "orders",
        ["current_location_id", "created_at"],
    )
    op.drop_index("ix_orders_current_location_id", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_current_location_id", "orders", ["current_location_id"])
    op.drop_index("ix_orders_current_location_id_created_at", table_name="orders")
    op.create_index(
        "ix_orders_current_status_last_event_at", "orders", ["current_status", "last_event_at"]
    )
    op.drop_index("ix_orders_current_status_last_event_at_created_at", table_name="orders")
