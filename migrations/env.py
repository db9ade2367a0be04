"""The Alembic environment.

The connection comes from `config.attributes["connection"]` when migrations
are run from code (logistic.adapters.sql.migrate.upgrade); otherwise from the
LOGISTIC_DATABASE_URL environment variable, else the embedded SQLite file.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.tables import metadata

DEFAULT_URL = "sqlite:///var/logistic.db"

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=os.environ.get("LOGISTIC_DATABASE_URL", DEFAULT_URL),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        run_migrations(given)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    engine = create_engine(os.environ.get("LOGISTIC_DATABASE_URL", DEFAULT_URL))
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
