"""nginx in front of the API, as shipped: deploy/nginx/logistic.conf on loopback ports.

The site file is rendered with only its `listen` line and its upstream `server`
lines changed, so the tested proxy is the one operators install. It runs with a
main configuration of its own (`daemon off`, pid, logs and temp files under a
temporary prefix), never as the system service. Its access log records, for each
request, every upstream tried: a retried request lists two.
"""

from __future__ import annotations

import http.client
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

from tests.integration.servers import START_SECONDS, STOP_SECONDS, ProcessFailed, Reply
from tests.services import free_port, port_problem, require

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "logistic.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REQUEST_SECONDS = 20.0

_UPSTREAM_SERVER = re.compile(r"^(\s*server\s+)127\.0\.0\.1:\d+(\s)", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*listen\s+)80;", re.MULTILINE)
_LOG_FORMAT = "log_format upstreams '$msec|$request_method|$request_uri|$status|$upstream_addr';"


def require_nginx() -> None:
    """Skip (locally) or fail (under CI) when nginx is not installed."""
    require("nginx", None if os.access(NGINX, os.X_OK) else f"{NGINX} is not installed")


def site_config(upstream_ports: Sequence[int], port: int, text: str | None = None) -> str:
    """The shipped site listening on 127.0.0.1:`port`, its upstream on `upstream_ports`."""
    text = SITE.read_text() if text is None else text
    servers = _UPSTREAM_SERVER.findall(text)
    if len(servers) != len(upstream_ports):
        raise ValueError(
            f"{SITE.name} lists {len(servers)} upstream servers, the test runs"
            f" {len(upstream_ports)} API processes"
        )
    ports = iter(upstream_ports)
    text = _UPSTREAM_SERVER.sub(lambda match: f"{match[1]}127.0.0.1:{next(ports)}{match[2]}", text)
    text, listens = _LISTEN.subn(rf"\g<1>127.0.0.1:{port};", text)
    if listens != 1:
        raise ValueError(f"{SITE.name} should have one 'listen 80;' line, found {listens}")
    return text


def main_config(directory: Path, site: Path) -> str:
    """A main configuration that keeps everything of nginx's under `directory`."""
    # As root the workers would run as nobody, who cannot write the temp directories.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}"
        "daemon off;\n"
        "worker_processes 2;\n"
        f"pid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"    {_LOG_FORMAT}\n"
        f"    access_log {directory / 'access.log'} upstreams;\n"
        f"{temp}\n"
        f"    include {site};\n"
        "}\n"
    )


def check_config(directory: Path, site_text: str) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on `site_text` inside the test's main configuration."""
    site = directory / "site.conf"
    site.write_text(site_text)
    config = directory / "nginx.conf"
    config.write_text(main_config(directory, site))
    return subprocess.run(
        [NGINX, "-t", "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class LogLine(NamedTuple):
    at: float  # seconds since the epoch
    method: str
    uri: str
    status: int
    upstreams: tuple[str, ...]

    @classmethod
    def parse(cls, line: str) -> LogLine:
        at, method, uri, status, upstreams = line.split("|")
        # Each upstream tried, in order ("127.0.0.1:3000, 127.0.0.1:3001"); "-" for none.
        return cls(float(at), method, uri, int(status), tuple(upstreams.split(", ")))


def send(
    port: int,
    method: str,
    path: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    source: str = "127.0.0.1",
    timeout: float = REQUEST_SECONDS,
) -> Reply:
    """One request to 127.0.0.1:`port` on a new connection, from the loopback address `source`."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0)
    )
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return Reply(response.status, tuple(response.getheaders()), response.read())
    finally:
        connection.close()


class Nginx:
    """nginx with the shipped site in front of the API processes on `upstream_ports`."""

    def __init__(self, directory: Path, upstream_ports: Sequence[int]) -> None:
        self.directory = directory
        self.port = free_port()
        self.site = directory / "site.conf"
        self.config = directory / "nginx.conf"
        self.site.write_text(site_config(upstream_ports, self.port))
        self.config.write_text(main_config(directory, self.site))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            NGINX,
            "-p", str(self.directory),
            "-c", str(self.config),
            "-e", str(self.directory / "error.log"),
        ]  # fmt: skip
        with (self.directory / "nginx.out").open("ab") as out:
            self._process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while port_problem("127.0.0.1", self.port) is not None:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ProcessFailed(f"nginx did not start:\n{self.error_log()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """A fast shutdown (SIGTERM) of the master and its workers."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_SECONDS)

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        source: str = "127.0.0.1",
    ) -> Reply:
        return send(self.port, method, path, headers, source=source)

    def access_log(self) -> list[LogLine]:
        text = (self.directory / "access.log").read_text(errors="replace")
        return [LogLine.parse(line) for line in text.splitlines() if line]

    def error_log(self) -> str:
        try:
            return (self.directory / "error.log").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def running_nginx(directory: Path, upstream_ports: Sequence[int]) -> Iterator[Nginx]:
    """nginx started in `directory` (its prefix), always stopped on exit."""
    require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    nginx = Nginx(directory, upstream_ports)
    try:
        nginx.start()
        yield nginx
    finally:
        nginx.stop()
