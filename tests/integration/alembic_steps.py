"""Alembic's own commands on a test's engine: the schema taken to a given revision."""

from __future__ import annotations

from collections.abc import Callable

from alembic.config import Config
from sqlalchemy.engine import Engine

from logistic.adapters.sql.migrate import alembic_config


def migrate_to(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Alembic's `step` (command.upgrade or command.downgrade) to `revision`."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
