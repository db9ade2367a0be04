"""orders: the index on created_at alone is dropped

Only the status counts' "orders created after the slot" read it, and they now
read a range of (current_location_id, created_at) for each place instead
(adapters/sql/status_counts.py). Every new order wrote an entry at a random
place in it (creation times are spread over days): with Debian's 128 MiB buffer
pool, most of /fake?num=100's hundred entries were a page read from disk.
Dropping an index is instant on MariaDB; a release before this one still
counts correctly without it, with a scan of the index it then picks.

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
    op.drop_index("ix_orders_created_at", table_name="orders")


def downgrade() -> None:
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
