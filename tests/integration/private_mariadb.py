"""A MariaDB server of the test's own (its own data directory and port), to pause or kill.

The shared server on 3306 must never be paused; this one may be: `paused()` stops
the process with SIGSTOP, so its sockets stay open and every client waits, as on a
hung host, until SIGCONT.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pymysql

from tests.services import free_port, require

START_SECONDS = 30.0


class MariaDBServer:
    """`mariadbd` on 127.0.0.1 with a fresh data directory under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.datadir = directory / "data"
        self.port = free_port()
        self.log_path = directory / "mariadbd.log"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str, driver: str = "pymysql") -> str:
        return f"mysql+{driver}://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def install(self) -> None:
        done = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{done.stdout!r}\n{done.stderr!r}")

    def start(self) -> None:
        command = [
            "mariadbd",
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.directory / 'mariadbd.sock'}",
            "--innodb-buffer-pool-size=32M",
            "--skip-log-bin",
        ]
        if os.geteuid() == 0:
            command.append("--user=root")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                pymysql.connect(
                    host="127.0.0.1", port=self.port, user="root", connect_timeout=1
                ).close()
                return
            except pymysql.MySQLError as error:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"mariadbd did not start:\n{self.log_path.read_text()[-2000:]}"
                    ) from error
                time.sleep(0.2)

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL (PyMySQL)."""
        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        finally:
            connection.close()
        return self.url(name)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The server stopped (SIGSTOP) inside the block, continued (SIGCONT) after it."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._process.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Kill the server at once, as a crash would (its data is thrown away anyway)."""
        if self._process is not None and self._process.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGCONT)
                os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=10)


@contextmanager
def private_mariadb(directory: Path) -> Iterator[MariaDBServer]:
    """A running private MariaDB under `directory`, killed and removed afterwards."""
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        require("a private MariaDB", "mariadbd or mariadb-install-db is not installed")
    server = MariaDBServer(directory)
    try:
        server.install()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.datadir, ignore_errors=True)
