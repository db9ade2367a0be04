"""`logistic migrate` and seeding on a Galera cluster: what Galera refuses never happens.

The cluster runs with wsrep_mode REQUIRED_PRIMARY_KEY,STRICT_REPLICATION (see
galera.py), so a migration creating a table without a primary key, or of another
engine than InnoDB, fails there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.galera import LOCK_TABLE
from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.services.seeding import BATCH_SIZE, Batch
from logistic.settings import Settings
from tests.integration.galera import GaleraCluster
from tests.integration.test_concurrent_migrations import (
    REPLICAS,
    assert_migrated_once,
    migrate_at_once,
)

pytestmark = pytest.mark.galera

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(galera_cluster: GaleraCluster) -> Iterator[str]:
    with galera_cluster.database("schema") as name:
        yield name


def test_four_migrators_on_three_nodes_migrate_once(
    galera_cluster: GaleraCluster, database: str, tmp_path: Path
) -> None:
    urls = [galera_cluster.node(1 + replica % 3).url(database) for replica in range(REPLICAS)]

    migrate_at_once(urls, tmp_path)

    for index in (1, 2, 3):
        assert_migrated_once(galera_cluster.node(index).url(database))


def test_the_migration_lock_is_a_table_for_the_time_of_a_migration_only(
    galera_cluster: GaleraCluster, database: str, tmp_path: Path
) -> None:
    url = galera_cluster.node(2).url(database)
    migrate_at_once([url], tmp_path)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.execute(text("SHOW TABLES")).scalars().all()
            without_key = connection.execute(
                text(
                    "SELECT t.table_name FROM information_schema.tables AS t"
                    " LEFT JOIN information_schema.table_constraints AS c"
                    " ON c.table_schema = t.table_schema AND c.table_name = t.table_name"
                    " AND c.constraint_type = 'PRIMARY KEY'"
                    " WHERE t.table_schema = DATABASE() AND c.constraint_name IS NULL"
                )
            ).all()
    finally:
        engine.dispose()
    assert LOCK_TABLE not in tables
    assert without_key == []


def test_nothing_takes_table_locks() -> None:
    """LOCK TABLES is not replicated by Galera: neither the code nor a migration uses it."""
    sources = [*ROOT.joinpath("src").rglob("*.py"), *ROOT.joinpath("migrations").rglob("*.py")]
    using = [path for path in sources if re.search(r"LOCK\s+TABLES?\b", path.read_text(), re.I)]
    assert using == []


def test_a_seeding_batch_fits_far_within_the_largest_writeset(
    galera_cluster: GaleraCluster, database: str, tmp_path: Path
) -> None:
    node = galera_cluster.node(3)
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": str(tmp_path), "LOGISTIC_DATABASE_URL": node.url(database)}
    )
    container = Container(settings=settings)
    try:
        container.upgrade()
        container.location_catalog().sync(LOGISTICS_CENTERS)
        before = int(node.status("wsrep_replicated_bytes") or 0)
        added = container.seeding().add(Batch(0, BATCH_SIZE), seed=25)
        written = int(node.status("wsrep_replicated_bytes") or 0) - before
    finally:
        container.shutdown_resources()
    with node.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@wsrep_max_ws_size, @@wsrep_max_ws_rows")
        limit_bytes, limit_rows = cursor.fetchone() or (0, 0)
    assert added == BATCH_SIZE
    # The figure docs/operations.md gives (-s shows it).
    print(f"\nseeding batch of {BATCH_SIZE}: {written / 2**20:.1f} MiB replicated")
    assert written < int(limit_bytes) / 20
    assert int(limit_rows) == 0  # no limit on rows
