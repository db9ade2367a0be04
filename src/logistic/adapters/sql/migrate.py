"""Bring a database to the newest schema with the Alembic migrations in `migrations/`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from logistic.adapters.sql.engine import create_engine, writer
from logistic.domain.errors import StorageUnavailable

# The project is installed editable, so the repository's migrations/ sits next to src/.
MIGRATIONS = Path(__file__).resolve().parents[4] / "migrations"


def alembic_config() -> Config:
    if not (MIGRATIONS / "env.py").is_file():
        raise FileNotFoundError(f"no Alembic environment at {MIGRATIONS} (install with pip -e)")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine_or_url: Engine | str) -> None:
    """Apply every migration not yet applied (a no-op on an up-to-date database)."""
    engine = create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        config = alembic_config()
        # A writing transaction: on SQLite it waits for other writers instead of failing.
        with writer(engine).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except DBAPIError as error:
        raise StorageUnavailable(
            f"migrating the database failed ({type(error.orig).__name__})"
        ) from error
    finally:
        if engine is not engine_or_url:
            engine.dispose()
