"""A MariaDB Galera cluster of the test session's own: three nodes on loopback.

`galera_cluster` installs one datadir with `mariadb-install-db`, bootstraps node 1
on it (`--wsrep-new-cluster`), then starts nodes 2 and 3 on empty datadirs: each
joins by a real state transfer (rsync SST) and, after a `kill -9` and a restart,
catches up by IST from the gcache. Every node has its own SQL, group, IST and SST
ports, all on 127.0.0.1. The processes are killed and the datadirs removed at the
end of the session; tests keep apart by database name, as on the shared server.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pymysql
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry

from logistic.adapters.sql.engine import create_engine
from tests.integration.redis_cluster import ClusterFailed
from tests.services import free_port, require

NODES = 3
PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
MARIADBD = Path("/usr/sbin/mariadbd")
START_SECONDS = 90.0
# Options shared by mariadb-install-db and every node: a small redo log and buffer
# pool keep the state transfer and the memory of three servers on one machine small.
SERVER_OPTIONS = (
    "--innodb-log-file-size=8M",
    "--innodb-buffer-pool-size=32M",
    "--skip-name-resolve",
)


class GaleraNode:
    """One mariadbd of the cluster: its ports, its datadir and its process."""

    def __init__(
        self, index: int, directory: Path, ports: list[int], group_ports: list[int]
    ) -> None:
        self.index = index
        self.group_ports = group_ports
        self.directory = directory
        self.sql_port, self.group_port, self.ist_port, self.sst_port = ports
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def datadir(self) -> Path:
        return self.directory / f"node{self.index}"

    @property
    def log(self) -> Path:
        return self.directory / f"node{self.index}.err"

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root:@127.0.0.1:{self.sql_port}/{database}?charset=utf8mb4"

    def connect(self) -> pymysql.Connection[pymysql.cursors.Cursor]:
        return pymysql.connect(
            host="127.0.0.1", port=self.sql_port, user="root", password="",
            connect_timeout=2, read_timeout=10, autocommit=True,
        )  # fmt: skip

    def status(self, name: str) -> str | None:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SHOW STATUS LIKE %s", (name,))
            row = cursor.fetchone()
        return None if row is None else str(row[1])

    def synced(self) -> bool:
        try:
            return self.status("wsrep_local_state_comment") == "Synced"
        except pymysql.Error:
            return False

    def recovered_position(self) -> str:
        """The last transaction this datadir holds (uuid:seqno), as `galera_recovery` finds
        it after a crash: without it a restarted node asks for a whole SST, not an IST."""
        log = self.directory / f"node{self.index}.recover"
        log.unlink(missing_ok=True)
        subprocess.run(
            [*self._command(log), "--wsrep-recover"],
            capture_output=True, timeout=START_SECONDS, check=False,
        )  # fmt: skip
        found = re.search(r"Recovered position:\s*(\S+:-?\d+)", _tail(log))
        if found is None:
            raise ClusterFailed(f"node {self.index}: no recovered position:\n{_tail(log)}")
        return found.group(1)

    def start(self, bootstrap: bool = False, position: str | None = None) -> None:
        command = [
            *self._command(self.log),
            *(["--wsrep-new-cluster"] if bootstrap else []),
            *([f"--wsrep-start-position={position}"] if position else []),
        ]
        with (self.directory / f"node{self.index}.out").open("ab") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def _command(self, log: Path) -> list[str]:
        """mariadbd with this node's options, writing its log to `log`."""
        members = ",".join(f"127.0.0.1:{port}" for port in self.group_ports)
        provider_options = ";".join(
            (
                f"gmcast.listen_addr=tcp://127.0.0.1:{self.group_port}",
                f"ist.recv_addr=127.0.0.1:{self.ist_port}",
                "gcache.size=64M",
            )
        )
        return [
            str(MARIADBD), "--no-defaults", *_as_user(),
            f"--datadir={self.datadir}",
            f"--port={self.sql_port}", "--bind-address=127.0.0.1",
            f"--socket={self.directory / f'node{self.index}.sock'}",
            f"--pid-file={self.directory / f'node{self.index}.pid'}",
            f"--log-error={log}",
            *SERVER_OPTIONS,
            "--binlog-format=ROW", "--innodb-autoinc-lock-mode=2",
            "--wsrep-on=ON", f"--wsrep-provider={PROVIDER}",
            "--wsrep-cluster-name=logistic-test", f"--wsrep-node-name=node{self.index}",
            f"--wsrep-node-address=127.0.0.1:{self.group_port}",
            f"--wsrep-cluster-address=gcomm://{members}",
            f"--wsrep-provider-options={provider_options}",
            "--wsrep-sst-method=rsync",
            f"--wsrep-sst-receive-address=127.0.0.1:{self.sst_port}",
            # Causal reads: a read on one node sees what another node committed before it
            # began, as a multi-primary deployment behind one load balancer needs.
            "--wsrep-sync-wait=1",
            # Refuse what Galera cannot replicate safely: tables without a primary key,
            # engines other than InnoDB; the migrations run under it in every test.
            "--wsrep-mode=REQUIRED_PRIMARY_KEY,STRICT_REPLICATION",
        ]  # fmt: skip

    def kill(self) -> None:
        """`kill -9`: no shutdown, as a node lost to a power cut."""
        if self.process is not None and self.process.poll() is None:
            with suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None


class GaleraCluster:
    """Three nodes; `node(i)` (1-based) for a URL, a kill or a restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        ports = _distinct_free_ports(4 * NODES)
        self.nodes = [
            GaleraNode(index, directory, ports[4 * (index - 1) : 4 * index], ports[1::4])
            for index in range(1, NODES + 1)
        ]

    def node(self, index: int) -> GaleraNode:
        return self.nodes[index - 1]

    def restart(self, index: int) -> None:
        """Start a node again on its datadir after a crash: it rejoins from the position
        it recovers, by IST when a donor's gcache still holds what it missed."""
        node = self.node(index)
        node.start(position=node.recovered_position())
        self.wait_synced(node)

    def wait_synced(self, node: GaleraNode) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not node.synced():
            if node.process is None or node.process.poll() is not None:
                raise ClusterFailed(f"node {node.index} exited:\n{_tail(node.log)}")
            if time.monotonic() > deadline:
                raise ClusterFailed(f"node {node.index} not synced:\n{_tail(node.log)}")
            time.sleep(0.2)

    @contextmanager
    def database(self, label: str) -> Iterator[str]:
        """A database of the caller's own on the cluster; yields its name, dropped afterwards."""
        name = f"logistic_{label}_{uuid.uuid4().hex[:10]}"
        with self.node(1).connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield name
        finally:
            with self.node(1).connect() as connection, connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")

    def start(self) -> None:
        first, *others = self.nodes
        _install(first.datadir, self.directory)
        first.start(bootstrap=True)
        self.wait_synced(first)
        for node in others:
            _make_joiner_datadir(node.datadir)
            node.start()
        for node in others:
            self.wait_synced(node)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


def spread_engine(cluster: GaleraCluster, database: str) -> Engine:
    """An engine (the project's, for node 1) that opens a new connection for every
    checkout, on the next node in turn: consecutive transactions land on all three."""
    engine = create_engine(cluster.node(1).url(database))
    ports = itertools.cycle([node.sql_port for node in cluster.nodes])

    @event.listens_for(engine, "do_connect")
    def _next_node(
        dialect: object, record: object, cargs: object, cparams: dict[str, object]
    ) -> None:
        cparams["port"] = next(ports)

    @event.listens_for(engine, "connect")
    def _new(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info["new"] = True

    @event.listens_for(engine, "checkout")
    def _once(dbapi_connection: object, record: ConnectionPoolEntry, proxy: object) -> None:
        if not record.info.pop("new", False):
            # The pool's documented way to replace a connection at checkout.
            raise DisconnectionError("one connection per transaction, on the next node")

    return engine


def _as_user() -> list[str]:
    # As root, mariadbd needs --user; the rsync daemon of a joiner's state transfer
    # drops to `nobody`, so the joiners' datadirs belong to nobody (see below).
    return ["--user=root"] if os.geteuid() == 0 else []


def _make_joiner_datadir(datadir: Path) -> None:
    datadir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(datadir, "nobody", "nogroup")


def _install(datadir: Path, directory: Path) -> None:
    command = [
        "mariadb-install-db", "--no-defaults", *_as_user(), f"--datadir={datadir}",
        "--auth-root-authentication-method=normal", "--skip-test-db", *SERVER_OPTIONS,
    ]  # fmt: skip
    with (directory / "install.log").open("ab") as log:
        installed = subprocess.run(
            command, stdout=log, stderr=subprocess.STDOUT, timeout=START_SECONDS, check=False
        )
    if installed.returncode != 0:
        raise ClusterFailed(f"mariadb-install-db exited {installed.returncode}")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except FileNotFoundError:
        return "(no log)"


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def galera_problem() -> str | None:
    """Why a Galera cluster cannot be started here (None when it can)."""
    missing = [str(path) for path in (PROVIDER, MARIADBD) if not path.exists()] + [
        tool for tool in ("mariadb-install-db", "rsync") if shutil.which(tool) is None
    ]
    return (
        f"missing {', '.join(missing)} (Debian: galera-4, mariadb-server, rsync)"
        if missing
        else None
    )


@pytest.fixture(scope="session")
def galera_cluster() -> Iterator[GaleraCluster]:
    """Three Galera nodes on 127.0.0.1, synced, for this session; killed at its end."""
    require("Galera", galera_problem())
    # Not under pytest's 0700 temporary directory: the joiners' rsync daemon runs as
    # `nobody` when the tests run as root and must reach the datadirs.
    directory = Path(tempfile.mkdtemp(prefix="logistic-galera-"))
    directory.chmod(0o755)
    cluster = GaleraCluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
