"""The unit tier's guard refuses what belongs to the integration tier."""

from __future__ import annotations

import socket
import subprocess
import tempfile

import pytest


def test_a_unit_test_cannot_start_a_process() -> None:
    with pytest.raises(RuntimeError, match="starts a process"):
        subprocess.run(["true"], check=False)


def test_a_unit_test_cannot_open_a_connection() -> None:
    with socket.socket() as sock, pytest.raises(RuntimeError, match="opens a connection"):
        sock.connect(("127.0.0.1", 9))


def test_a_unit_test_cannot_write_a_file() -> None:
    with pytest.raises(RuntimeError, match="writes"), tempfile.TemporaryFile():
        pass
