"""Real processes for the integration tests: the `logistic serve` server and private Redis.

`running_service` runs `logistic migrate`, then `logistic serve` (granian) in a
process group of its own, waits for /healthz, and always ends the group.
`private_redis` runs a Redis server that a test may kill and start again without
disturbing the shared one. Every reply of the service is checked against the API's
contract (tests/contract.py).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import redis

from tests.contract import CONTRACT
from tests.services import free_port

LOGISTIC = Path(sys.executable).with_name("logistic")
START_SECONDS = 20.0
STOP_SECONDS = 10.0
REQUEST_SECONDS = 10.0
LOG_TAIL = 4000
# What the HTTP server (granian) answers itself, before the app: an empty 414 for a
# request target over its limit, an empty 400 for malformed HTTP.
SERVER_OWN_STATUSES = (400, 414)

# Unless a test says otherwise: the fake-order API on, two server workers (where the
# profile allows more than one) so that requests really spread over processes, and no
# rate limit (the tests send hundreds of lookups from one address).
DEFAULTS = {
    "LOGISTIC_FAKE_API": "on",
    "LOGISTIC_WORKERS": "2",
    "LOGISTIC_LOG_LEVEL": "INFO",
    "LOGISTIC_RATE_LIMIT": "off",
}


class ProcessFailed(RuntimeError):
    """A server did not start, or a command failed; the message carries its log."""


class Reply(NamedTuple):
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        return self.header("Content-Type") or ""

    def json(self) -> Any:
        return json.loads(self.body)


def _environment(env: Mapping[str, str], home: Path) -> dict[str, str]:
    # The developer's own LOGISTIC_* settings must not leak into a test server.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("LOGISTIC")}
    return {**inherited, "LOGISTIC_HOME": str(home), **DEFAULTS, **env}


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL:]
    except FileNotFoundError:
        return "(no log)"


def _end_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


class ServiceProcess:
    """One `logistic serve` (a granian main process and its workers) on 127.0.0.1."""

    def __init__(self, env: Mapping[str, str], home: Path) -> None:
        self.env = _environment(env, home)
        self.home = home
        self.port = free_port()
        self.log_path = home / "serve.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The main process's id (its workers are its children); None before `start`."""
        return None if self._process is None else self._process.pid

    def log(self) -> str:
        return _tail(self.log_path)

    def migrate(self) -> None:
        done = subprocess.run(
            [str(LOGISTIC), "migrate"],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-LOG_TAIL:]
            raise ProcessFailed(f"logistic migrate exited {done.returncode}:\n{output}")

    def start(self) -> None:
        """Start `logistic serve` on this object's port and wait until /healthz answers."""
        if self._process is not None and self._process.poll() is None:
            raise ProcessFailed(f"already running as pid {self._process.pid}")
        command = [str(LOGISTIC), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_healthy()

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self._process.poll() is not None:
                raise ProcessFailed(
                    f"logistic serve exited {self._process.returncode}:\n{self.log()}"
                )
            try:
                if self.request("GET", "/healthz", timeout=1).status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise ProcessFailed(
                    f"/healthz did not answer within {START_SECONDS:.0f} s:\n{self.log()}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """End the whole process group gracefully (SIGTERM), forcibly if it lingers."""
        if self._process is not None:
            _end_group(self._process, signal.SIGTERM)

    def kill(self) -> None:
        """End the whole process group at once (SIGKILL), as a crash would."""
        if self._process is not None:
            _end_group(self._process, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = REQUEST_SECONDS,
    ) -> Reply:
        """Send `path` exactly as given (already percent-encoded) on a new connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            reply = Reply(response.status, tuple(response.getheaders()), response.read())
        finally:
            connection.close()
        if not (reply.status in SERVER_OWN_STATUSES and not reply.body and not reply.content_type):
            CONTRACT.check(method, path, reply.status, reply.headers, reply.body)
        return reply

    def get(self, path: str) -> Reply:
        return self.request("GET", path)


@contextmanager
def running_service(env: Mapping[str, str], tmp_path: Path) -> Iterator[ServiceProcess]:
    """A migrated, healthy `logistic serve` with `env`; its process group ends on exit."""
    home = tmp_path / f"service-{free_port()}"
    home.mkdir()
    service = ServiceProcess(env, home)
    try:
        service.migrate()
        service.start()
        yield service
    finally:
        service.stop()


class RedisServer:
    """A `redis-server` of the test's own, with no persistence, on a fixed port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.log_path = directory / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        client = redis.Redis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_SECONDS
        try:
            while True:
                if self._process.poll() is not None:
                    raise ProcessFailed(f"redis-server exited:\n{_tail(self.log_path)}")
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise ProcessFailed(f"redis-server did not answer:\n{_tail(self.log_path)}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Kill the server at once (nothing to save), as a crash would."""
        if self._process is not None:
            _end_group(self._process, signal.SIGKILL)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The server stopped (SIGSTOP) inside the block, continued (SIGCONT) after it:
        its sockets stay open and every command waits, as on a hung host."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self._process.pid, signal.SIGCONT)


@contextmanager
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A running private Redis; `.stop()` and `.start()` again keep its port and URL."""
    directory = tmp_path / f"redis-{free_port()}"
    directory.mkdir()
    server = RedisServer(directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def stop_gracefully(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    """SIGTERM, then its exit code; a process that ignores SIGTERM is killed and the test fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def create_key(service: ServiceProcess, *scopes: str) -> str:
    """`logistic keys create` in the service's environment; the printed key."""
    arguments = [argument for scope in scopes for argument in ("--scope", scope)]
    done = subprocess.run(
        [str(LOGISTIC), "keys", "create", *arguments],
        env=service.env,
        cwd=service.home,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()
