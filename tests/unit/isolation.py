"""The unit tier's rule, enforced: no process started, no connection opened, no file written.

An audit hook (PEP 578) sees every such call; it is armed only while a unit test runs,
so the integration tests in the same session are not affected.
"""

from __future__ import annotations

import os
import sys
from typing import Any

FORBIDDEN = {
    "subprocess.Popen": "starts a process",
    "os.fork": "starts a process",
    "os.forkpty": "starts a process",
    "os.posix_spawn": "starts a process",
    "os.system": "starts a process",
    "socket.connect": "opens a connection",
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
armed = False


def refuse_io(event: str, args: tuple[Any, ...]) -> None:
    if not armed:
        return
    if event in FORBIDDEN:
        raise RuntimeError(
            f"a unit test {FORBIDDEN[event]} ({event}): it belongs in tests/integration"
        )
    if event == "open":
        path, mode, flags = args
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE_FLAGS
        )
        if writes and path is not None:
            raise RuntimeError(f"a unit test writes {path}: it belongs in tests/integration")


sys.addaudithook(refuse_io)
