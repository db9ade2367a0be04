"""Granian, the production WSGI server, run from inside the `logistic` command.

Its HTTP is Rust (hyper): on this service it answers about three times as many
cached lookups as gunicorn on the same cores (see bench/). Each worker is a
process with `threads` Python threads for the app. A request line fits up to
64 KiB (hyper's limit, answered 414 above it), so a 10 kB sno still reaches the
app and gets its JSON 400; SIGTERM and SIGINT finish the requests in flight.
"""

from __future__ import annotations

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels
from granian.server import Server as Granian

from logistic.container import Container
from logistic.entrypoints.http import create_app
from logistic.settings import Settings

GRACEFUL_SECONDS = 20


class Server:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def run(self) -> None:
        settings = self._settings
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
            workers_kill_timeout=GRACEFUL_SECONDS,
        )
        server.serve(target_loader=self.load, wrap_loader=False)

    def load(self) -> Flask:
        # Called in each worker after the fork, so connections are never shared
        # between processes.
        return create_app(Container(settings=self._settings))
