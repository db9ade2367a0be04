"""The data the bench measures on: its MariaDB database, created if missing and seeded
to each size (the seeding timed), its API key, and a SQLite file seeded from nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pymysql
from sqlalchemy import make_url

from bench.figures import Bound, FigureTable
from bench.processes import logistic_command


def mariadb(database_url: str, database: bool = True) -> pymysql.Connection:  # type: ignore[type-arg]
    """A plain PyMySQL connection to the server of `database_url` (and its database)."""
    url = make_url(database_url)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=url.database if database else None,
        autocommit=True,
    )


def seed_summary(output: str) -> tuple[int, int]:
    """The orders `logistic seed` says it added and those it says are stored; (0, 0)
    when it says neither."""
    match = re.search(r"([\d,]+) orders added; ([\d,]+) stored", output)
    if match is None:
        return 0, 0
    return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))


class Dataset:
    """The bench's database at `database_url`, driven by the `logistic` command in `home`
    with `env`; the seedings' figures go to `table`."""

    def __init__(
        self, database_url: str, home: Path, env: dict[str, str], table: FigureTable
    ) -> None:
        self.database_url = database_url
        self.home = home
        self.env = env
        self.table = table
        # The server and its buffer pool, for the table's heading; known once counted.
        self.description = "database not reached"
        self.highest_sno = 0

    def logistic(self, *command: str, env: dict[str, str] | None = None) -> str:
        return logistic_command(self.home, env or self.env, *command)

    def create(self) -> None:
        name = make_url(self.database_url).database
        connection = mariadb(self.database_url, database=False)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
        connection.close()

    def api_key(self) -> str:
        path = self.home / "bench-key"
        if not path.exists():
            scopes = ["pii:read", "fake:write", "events:write"]
            key = self.logistic("keys", "create", *(f"--scope={scope}" for scope in scopes))
            path.write_text(key.strip())
        return path.read_text().strip()

    def seed(self, orders: int) -> int:
        started = time.perf_counter()
        output = self.logistic("seed", "--orders", str(orders))
        seconds = time.perf_counter() - started
        added, stored = seed_summary(output)
        if added:
            self.table.seeding(added, seconds)
        print(f"seed --orders {orders:,}: {added:,} added in {seconds:.1f} s", flush=True)
        return stored or orders

    def seed_sqlite(self, rounds: int, orders: int = 100_000) -> None:
        """`logistic seed --orders 100000` into a new SQLite file, once per round."""
        figure = self.table.figure("seeding 100k, SQLite", "s", target="≤ 30 s")
        figure.bound = Bound(30)
        figure.note = "the whole command: start-up and migrating the new file included"
        path = self.home / "seed-bench.db"
        # The embedded default: SQLite, and the in-process cache rather than the bench's Redis.
        env = {k: v for k, v in self.env.items() if k != "LOGISTIC_REDIS_URL"}
        env["LOGISTIC_DATABASE_URL"] = f"sqlite:///{path}"
        for round_ in range(1, rounds + 1):
            for leftover in self.home.glob(f"{path.name}*"):
                leftover.unlink()
            started = time.perf_counter()
            self.logistic("seed", "--orders", str(orders), env=env)
            figure.values.append(time.perf_counter() - started)
            print(f"seed SQLite {round_}/{rounds}: {figure.values[-1]:.1f} s", flush=True)
        for leftover in self.home.glob(f"{path.name}*"):
            leftover.unlink()

    def stored_orders(self) -> int:
        connection = mariadb(self.database_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(MAX(sno), 0), COUNT(*) FROM orders")
            highest, count = cursor.fetchone()  # type: ignore[misc]
            cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
            version, pool = cursor.fetchone()  # type: ignore[misc]
            self.description = f"{version}, InnoDB buffer pool {int(pool) // 2**20} MiB"
        connection.close()
        self.highest_sno = int(highest)
        return int(count)
