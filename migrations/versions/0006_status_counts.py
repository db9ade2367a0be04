"""status_counts: the orders in each current status, kept by every write

The reports counted orders by status with a scan of a million index entries
(0.4 s at 1,000,000 orders on MariaDB); they now read one row per status. The
rows are created here for every status known today (a migration adding a
status adds its row) and filled from the orders already stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses as this revision knows them; "" counts the orders with no event yet.
_STATUSES = (
    "",
    "Created",
    "Package Received",
    "In Transit",
    "Out for Delivery",
    "Delivery Attempted",
    "Delivered",
    "Returned to Sender",
    "Exception",
)


def upgrade() -> None:
    table = op.create_table(
        "status_counts",
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("status", name="pk_status_counts"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.bulk_insert(table, [{"status": status, "orders": 0} for status in _STATUSES])
    # Orders written by a release before this one, counted once here.
    op.execute(
        "UPDATE status_counts SET orders = ("
        " SELECT COUNT(*) FROM orders"
        " WHERE COALESCE(orders.current_status, '') = status_counts.status)"
    )


def downgrade() -> None:
    op.drop_table("status_counts")
