"""An S3 server of the test's own (moto's standalone server), to pause while it serves.

The session's `s3_endpoint` is shared by many tests; this one may be stopped with
SIGSTOP: connections stay open and every client waits, as on a hung store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.services import free_port, port_problem, require

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class S3Server:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while port_problem("127.0.0.1", self.port) is not None:
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"moto_server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

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
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGCONT)
            self._process.kill()
            self._process.wait(timeout=10)


@contextmanager
def private_s3(directory: Path) -> Iterator[S3Server]:
    """A running private S3 server, killed afterwards."""
    if not MOTO_SERVER.exists():
        require("a private S3 server", f"{MOTO_SERVER} is not installed (moto[server])")
    server = S3Server(directory / "moto.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
