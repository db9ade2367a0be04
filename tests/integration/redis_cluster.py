"""A Redis Cluster of the test session's own: three masters on loopback ports, no replicas.

`redis_cluster_url` starts three `redis-server` processes in cluster mode, joins
them with `redis-cli --cluster create`, waits for `cluster_state:ok` and yields a
`redis+cluster://` URL; the three processes are killed at the end of the session.
The cluster is thrown away afterwards, so tests only keep apart by key prefix.

`replicated_redis_cluster` is a test's own cluster of three masters and three
replicas, with a short node timeout, for a test that kills a master.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
import redis

from tests.services import free_port, require

NODES = 3
START_SECONDS = 30.0


class ClusterFailed(RuntimeError):
    """The cluster did not come up; the message carries the logs."""


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except FileNotFoundError:
        return "(no log)"


def _distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def _start_node(
    directory: Path, port: int, bus_port: int, node_timeout_ms: int = 15000
) -> subprocess.Popen[bytes]:
    # The bus port is given too: the default (port + 10000) may be taken or past 65535.
    command = [
        "redis-server",
        "--port", str(port),
        "--cluster-port", str(bus_port),
        "--bind", "127.0.0.1",
        "--cluster-enabled", "yes",
        "--cluster-node-timeout", str(node_timeout_ms),
        "--cluster-config-file", str(directory / f"nodes-{port}.conf"),
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
    ]  # fmt: skip
    with (directory / f"redis-{port}.log").open("ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait(ready: Callable[[], bool], what: str, directory: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            if ready():
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise ClusterFailed(f"{what} within {START_SECONDS:.0f} s:\n{_logs(directory)}")
        time.sleep(0.1)


def _node(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)


def _cluster_ok(port: int) -> bool:
    client = _node(port)
    try:
        info = client.execute_command("CLUSTER INFO")  # redis-py parses it into a dict
    finally:
        client.close()
    return bool(info.get("cluster_state") == "ok")


def _ping(port: int) -> bool:
    client = _node(port)
    try:
        return bool(client.ping())
    finally:
        client.close()


def _create(directory: Path, ports: list[int], replicas: int = 0) -> None:
    for port in ports:
        _wait(lambda port=port: _ping(port), f"node {port} did not answer", directory)
    addresses = [f"127.0.0.1:{port}" for port in ports]
    command = [
        "redis-cli", "--cluster", "create", *addresses,
        "--cluster-replicas", str(replicas),
        "--cluster-yes",
    ]  # fmt: skip
    created = subprocess.run(
        command,
        capture_output=True,
        timeout=START_SECONDS,
        check=False,
    )
    if created.returncode != 0:
        output = (created.stdout + created.stderr).decode(errors="replace")[-2000:]
        raise ClusterFailed(f"redis-cli --cluster create exited {created.returncode}:\n{output}")
    for port in ports:
        _wait(
            lambda port=port: _cluster_ok(port),
            f"node {port} did not report cluster_state:ok",
            directory,
        )
    if replicas:
        _wait(lambda: _all_replicas_linked(ports), "replicas did not link", directory)


def _all_replicas_linked(ports: list[int]) -> bool:
    """Whether half the nodes are replicas, each with its link to its master up."""
    linked = 0
    for port in ports:
        client = _node(port)
        try:
            info = client.info("replication")
        finally:
            client.close()
        if info.get("role") == "slave":
            if info.get("master_link_status") != "up":
                return False
            linked += 1
    return linked == len(ports) // 2


def _logs(directory: Path) -> str:
    return "\n".join(_tail(path) for path in sorted(directory.glob("redis-*.log")))


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`redis+cluster://` to a three-node cluster on 127.0.0.1, started for this session."""
    missing = [tool for tool in ("redis-server", "redis-cli") if shutil.which(tool) is None]
    require("Redis Cluster", f"{' and '.join(missing)} not on PATH" if missing else None)
    directory = tmp_path_factory.mktemp("redis-cluster")
    chosen = _distinct_free_ports(2 * NODES)
    ports, bus_ports = chosen[:NODES], chosen[NODES:]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.extend(
            _start_node(directory, port, bus) for port, bus in zip(ports, bus_ports, strict=True)
        )
        _create(directory, ports)
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for process in processes:
            _kill(process)


class ReplicatedCluster:
    """Three masters and three replicas; `kill_master_of(key)` as a crash would."""

    def __init__(self, directory: Path, processes: dict[int, subprocess.Popen[bytes]]) -> None:
        self.directory = directory
        self.processes = processes

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{min(self.processes)}"

    def master_of(self, key: str) -> int:
        """The port of the master serving `key`'s slot now."""
        for port, process in self.processes.items():
            if process.poll() is not None:
                continue
            client = _node(port)
            try:
                slot = int(client.execute_command("CLUSTER KEYSLOT", key))
                for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                    if start <= slot <= end:
                        return int(master[1])
            finally:
                client.close()
        raise ClusterFailed("no live node to ask")

    def kill(self, port: int) -> None:
        _kill(self.processes[port])

    def wait_failed_over(self, key: str, old_master: int) -> None:
        """Until a replica serves `key`'s slot instead of `old_master`, and every live node
        reports cluster_state:ok."""
        _wait(lambda: self.master_of(key) != old_master, "no replica took over", self.directory)
        for port, process in self.processes.items():
            if process.poll() is None:
                _wait(lambda port=port: _cluster_ok(port), f"{port} not ok", self.directory)


@pytest.fixture
def replicated_redis_cluster(tmp_path: Path) -> Iterator[ReplicatedCluster]:
    """A test's own cluster: three masters, three replicas, a 1 s node timeout."""
    missing = [tool for tool in ("redis-server", "redis-cli") if shutil.which(tool) is None]
    require("Redis Cluster", f"{' and '.join(missing)} not on PATH" if missing else None)
    chosen = _distinct_free_ports(4 * NODES)
    ports, bus_ports = chosen[: 2 * NODES], chosen[2 * NODES :]
    processes: dict[int, subprocess.Popen[bytes]] = {}
    try:
        for port, bus in zip(ports, bus_ports, strict=True):
            processes[port] = _start_node(tmp_path, port, bus, node_timeout_ms=1000)
        _create(tmp_path, ports, replicas=1)
        yield ReplicatedCluster(tmp_path, processes)
    finally:
        for process in processes.values():
            _kill(process)


@pytest.fixture
def redis_cluster_prefix() -> str:
    """A key prefix of the test's own (the cluster is killed at the end of the session)."""
    return f"logistic-test:{uuid.uuid4().hex[:10]}:"
