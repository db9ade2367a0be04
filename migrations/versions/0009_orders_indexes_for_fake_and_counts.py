"""orders: the index on created_at alone is dropped, (current_location_id, created_at)
gains current_status

Only the status counts' "orders created after the slot" read the first, and they
now read a range of (current_location_id, created_at, current_status) for each
place instead, from that index alone (adapters/sql/status_counts.py). Every new
order wrote an entry at a random place in the dropped index (creation times are
spread over days): with Debian's 128 MiB buffer pool, most of /fake?num=100's
hundred entries were a page read from disk. The wider index is built before the
narrower one goes (3.5 s at a million orders here, online); dropping an index is
instant on MariaDB. A release before this one still counts correctly.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_current_location_id_created_at_current_status",
        "orders",
        ["current_location_id", "created_at", "current_status"],
    )
    op.drop_index("ix_orders_current_location_id_created_at", table_name="orders")
    op.drop_index("ix_orders_created_at", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_index(
        "ix_orders_current_location_id_created_at", "orders", ["current_location_id", "created_at"]
    )
    op.drop_index("ix_orders_current_location_id_created_at_current_status", table_name="orders")
