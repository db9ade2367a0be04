"""sequences: a row for the snos and one for the recipient ids, made before any write

Migration 0005 made the row of 'tracking_events.id'; the rows of 'orders.sno' and
'recipients.id' were made by the first write that needed them. On MariaDB two
first writes at once could deadlock there: each locks the rows that exist (the
events' row), then makes the missing ones, and one of them, having seen the rows
another had just made, locks them in the other order. A /fake answered 503 on a
new database under eight calls at once. Each row now starts after the largest
key stored, as that first write would have started it; a row already there is
left as it is.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 21:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ROWS = (("orders.sno", "orders", "sno"), ("recipients.id", "recipients", "id"))
_SEQUENCES = sa.table("sequences", sa.column("name"), sa.column("next_value"))


def upgrade() -> None:
    connection = op.get_bind()
    for name, table, column in _ROWS:
        keys = sa.table(table, sa.column(column)).c[column]
        first = sa.select(sa.literal(name), sa.func.coalesce(sa.func.max(keys), 0) + 1)
        # A row already there (made by a write, perhaps an older release's at this very
        # moment) is kept.
        connection.execute(
            sa.insert(_SEQUENCES)
            .from_select(["name", "next_value"], first)
            .prefix_with("IGNORE", dialect="mysql")
            .prefix_with("IGNORE", dialect="mariadb")  # mariadb:// URLs
            .prefix_with("OR IGNORE", dialect="sqlite")
        )


def downgrade() -> None:
    # The rows are what the first write would have made: the release before uses them.
    pass
