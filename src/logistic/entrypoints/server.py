"""Granian, the production WSGI server, run from inside the `logistic` command.

Its HTTP is Rust (hyper): on this service it answers many more cached lookups
than gunicorn on the same cores (docs/performance.md). Each worker is a
process with `threads` Python threads for the app. A request line fits up to
64 KiB (hyper's limit, answered 414 above it), so a 10 kB sno still reaches the
app and gets its JSON 400; SIGTERM and SIGINT finish the requests in flight.
"""

from __future__ import annotations

import gc
import sys

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels
from granian.server import Server as Granian

from logistic.container import Container, WorkerResource
from logistic.entrypoints.http import create_app
from logistic.settings import Settings

GRACEFUL_SECONDS = 20
# How long a worker's thread may hold the GIL while another waits for it: shorter than
# CPython's default, so a thread back from a database or Redis reply waits less behind
# its sibling's Python, which shortens the slowest /query misses (docs/performance.md).
SWITCH_INTERVAL_S = 0.001
GRANIAN_LOGGERS = {
    "loggers": {
        name: {"handlers": [], "propagate": True} for name in ("_granian", "granian.access")
    }
}


class Server:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def run(self) -> None:
        settings = self._settings
        # Counts of an earlier run go before any worker writes its own.
        Container(settings=settings).metrics_store().clear()
        server = Granian(
            # Only a name in logs: each worker builds its app with `load` below.
            "logistic",
            address=settings.host,
            port=settings.port,
            interface=Interfaces.WSGI,
            workers=settings.workers,
            blocking_threads=settings.threads,
            http=HTTPModes.http1,
            websockets=False,
            log_level=LogLevels(settings.log_level.lower()),
            log_access=False,
            # Granian's own lines go through the service's handler (JSON by default).
            log_dictconfig=GRANIAN_LOGGERS,
            workers_kill_timeout=GRACEFUL_SECONDS,
            # A worker that dies (killed, out of memory) is replaced while the others keep
            # serving; without this granian stops them all and exits. A worker dying
            # again within seconds of its restart still ends the server (a crash loop).
            respawn_failed_workers=True,
        )
        server.serve(target_loader=self.load, wrap_loader=False)

    def load(self) -> Flask:
        # Called in each worker after the fork, so connections are never shared
        # between processes.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        container = Container(settings=self._settings)
        # Engines and clients built before the worker's threads take requests (none
        # connects here): a Resource takes no lock, and two first requests at once
        # would each build an engine.
        container.init_resources(WorkerResource)
        container.metrics_publisher().start()
        app = create_app(container)
        # What is built by now lives as long as the worker: left out of the collector's
        # full passes, each of which walked all of it (tens of ms with the GIL held).
        gc.collect()
        gc.freeze()
        return app
