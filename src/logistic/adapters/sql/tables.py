"""The schema, as SQLAlchemy Core tables; the Alembic migrations create it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeEngine

# Both MariaDB and SQLite keys are signed 64-bit integers: no key is above this.
MAX_KEY = 2**63 - 1

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (microseconds kept); read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", String(64), nullable=False),
    Column("city", String(16), nullable=False),
    Column("address", String(255), nullable=False),
    Column("region", String(32), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("address", String(255), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

orders = Table(
    "orders",
    metadata,
    Column("sno", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient_id", BigInteger, ForeignKey("recipients.id"), nullable=False),
    Column("origin_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("destination_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("promised_by", UtcDateTime, nullable=False),
    Column("current_status", String(32), nullable=True),
    Column("current_location_id", Integer, nullable=True),
    Column("last_event_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("event_count", Integer, nullable=False, server_default=text("0")),
    # The recipient and the events as JSON, rewritten by every write (migration 0008;
    # see adapters/sql/snapshot.py): a /query miss reads this row alone.
    Column("snapshot", Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb"), nullable=True),
    # With created_at and promised_by inside, the report figures read these three
    # indexes alone (see adapters/sql/report_figures.py); with the lane, the lane
    # stats read the last one alone (migration 0013, adapters/sql/lanes.py).
    Index(
        "ix_orders_current_status_last_event_at_created_at",
        "current_status",
        "last_event_at",
        "created_at",
    ),
    Index(
        "ix_orders_current_location_id_created_at_current_status",
        "current_location_id",
        "created_at",
        "current_status",
    ),
    Index(
        "ix_orders_delivered_at_lanes",
        "delivered_at",
        "created_at",
        "promised_by",
        "origin_id",
        "destination_id",
    ),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# What a lookup reads of an order, in the order snapshot.from_snapshot takes it, then its
# event count and snapshot: one /query miss and a batch of them read the same row.
ORDER_SNAPSHOT_COLUMNS = (
    orders.c.sno,
    orders.c.origin_id,
    orders.c.destination_id,
    orders.c.created_at,
    orders.c.promised_by,
    orders.c.recipient_id,
    orders.c.event_count,
    orders.c.snapshot,
)

# Clustered by order: one order's events sit together in its primary key, so a
# lookup reads them from one index range, already in id order. Ids come from the
# sequences table (see sequences.py), in the order the events happened.
tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", BigInteger, autoincrement=False, nullable=False),
    Column("order_sno", BigInteger, ForeignKey("orders.sno"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("note", String(500), nullable=True),
    PrimaryKeyConstraint("order_sno", "id"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# The Idempotency-Key claims events were appended with, written in the event's own
# transaction (see WriteClaim): one event per key at most. Purged with the keys.
event_claims = Table(
    "event_claims",
    metadata,
    Column("key_digest", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("order_sno", BigInteger, nullable=False),
    Column("event_id", BigInteger, nullable=False),
    Index("ix_event_claims_claimed_at", "claimed_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# How many orders are in each current status, kept in the same transaction as
# every write to orders.current_status, so the reports count by status without a
# scan. Orders with no event yet are counted under NO_STATUS. One row per status
# (migration 0006 creates them all), updated in status order.
NO_STATUS = ""
status_counts = Table(
    "status_counts",
    metadata,
    Column("status", String(32), primary_key=True),
    Column("orders", BigInteger, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# The same for orders.current_location_id (migration 0010): one row per place, orders
# with no event yet under NO_PLACE (location ids start at 1). The rows of the catalog's
# places are made with the places themselves (SqlLocationCatalog.sync); a write that
# meets a place without a row (an order moved by hand) makes it.
NO_PLACE = 0
place_counts = Table(
    "place_counts",
    metadata,
    Column("place", BigInteger, primary_key=True, autoincrement=False),
    Column("orders", BigInteger, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Blocks of snos, recipient ids and event ids are handed out from here, so that concurrent
# writers never share one and a whole batch needs a single allocation.
sequences = Table(
    "sequences",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("next_value", BigInteger, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# The first answer to each Idempotency-Key (a digest of the caller and the header);
# rows older than a day are purged by the service from time to time.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_digest", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column(
        "body", LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"), nullable=True
    ),
    Index("ix_idempotency_keys_claimed_at", "claimed_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Each lane's transit-time percentiles, rewritten whole at every report slot (migration
# 0013, adapters/sql/lanes.py).
lane_stats = Table(
    "lane_stats",
    metadata,
    Column("origin_id", Integer, nullable=False),
    Column("destination_id", Integer, nullable=False),
    Column("deliveries", BigInteger, nullable=False),
    Column("p05_hours", Float().with_variant(mysql.DOUBLE(), "mysql", "mariadb"), nullable=False),
    Column("p50_hours", Float().with_variant(mysql.DOUBLE(), "mysql", "mariadb"), nullable=False),
    Column("p95_hours", Float().with_variant(mysql.DOUBLE(), "mysql", "mariadb"), nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("origin_id", "destination_id"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Webhooks (migration 0012). A subscription's statuses are their names joined by commas
# (empty: every status).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("statuses", String(255), nullable=False),
    Column("description", String(255), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("previous_secret", String(64), nullable=True),
    Column("previous_until", UtcDateTime, nullable=True),
    Column("pii", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("failing_since", UtcDateTime, nullable=True),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# The outbox: one row per message, written in the transaction of the change it reports.
# `due_at` is when a dispatcher may take it next (NULL once delivered or dead); a claim
# moves it past the claim's lease, so a dispatcher that dies leaves it due again later.
# Ids grow in commit order per shipment: they order one shipment's messages.
webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("subscription_id", String(32), nullable=False),
    Column("sno", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column(
        "body", LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb"), nullable=False
    ),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=True),
    Column("claim_token", String(32), nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Index("ix_webhook_messages_due_at", "due_at"),
    Index("ix_webhook_messages_subscription_id_sno_id", "subscription_id", "sno", "id"),
    Index("ix_webhook_messages_subscription_id_created_at", "subscription_id", "created_at"),
    Index("ix_webhook_messages_finished_at", "finished_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("message_id", BigInteger, nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("latency_ms", Integer, nullable=False),
    Column("answer", Text, nullable=False),
    Index("ix_webhook_attempts_message_id_id", "message_id", "id"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
