"""Gunicorn, the production WSGI server, run from inside the `logistic` command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from logistic.container import Container
from logistic.entrypoints.http import create_app
from logistic.settings import Settings


class Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        super().__init__()

    def load_config(self) -> None:
        settings = self._settings
        options: dict[str, Any] = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": settings.workers,
            "threads": settings.threads,
            "worker_class": "gthread",
            "timeout": 30,
            "graceful_timeout": 20,
            "keepalive": 5,
            "accesslog": None,
            # Several instances run side by side (one per port); none needs gunicornc.
            "control_socket_disable": True,
            # gunicorn answers a request line over its limit itself, with an HTML 414,
            # and clamps any finite limit to 8190 bytes. 0 lifts it (its parser still
            # stops at 1 MiB) so the app answers a 10 kB sno with its own JSON 400.
            "limit_request_line": 0,
            "loglevel": settings.log_level.lower(),
            **self._overrides,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Called in each worker after the fork, so connections are never shared
        # between processes.
        return create_app(Container(settings=self._settings))
