"""place_counts: the orders at each current place, kept by every write

The report's counts by location scanned the whole (current_location_id,
created_at, current_status) index: 0.8 s of a 2.0 s report at a million orders
on a slow VM. They now read one row per place, less the orders created after
the slot, as the counts by status do since 0006. Place 0 counts the orders with
no event yet. A row is made here for every place in the catalog and every place
an order is at, and filled from the orders already stored.

A release before this one does not keep these counts: stop writers of the older
release before upgrading, or run `logistic recount` once they are gone (a write
makes the row of any other place when it first meets it).

Resumable: a run stopped after the table was made fills it again from the start.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    columns = (
        sa.Column("place", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("place", name="pk_place_counts"),
    )
    if sa.inspect(connection).has_table("place_counts"):
        # Made by a run that stopped before it was stamped (MariaDB commits DDL at once).
        table = sa.Table("place_counts", sa.MetaData(), *columns)
        connection.execute(table.delete())
    else:
        table = op.create_table(
            "place_counts", *columns, mysql_engine="InnoDB", mysql_charset="utf8mb4"
        )
    # One pass over the index on (current_location_id, ...), then a zero row for each
    # place of the catalog no order is at yet, and for "no place".
    counts = {
        int(place): int(count)
        for place, count in connection.execute(
            sa.text(
                "SELECT COALESCE(current_location_id, 0), COUNT(*) FROM orders"
                " GROUP BY COALESCE(current_location_id, 0)"
            )
        )
    }
    catalog = connection.execute(sa.text("SELECT id FROM locations")).scalars()
    rows = {0: 0} | {int(place): 0 for place in catalog} | counts
    op.bulk_insert(table, [{"place": place, "orders": count} for place, count in rows.items()])


def downgrade() -> None:
    op.drop_table("place_counts")
