"""A process's own `/metrics` on a port of its own (`logistic scheduler --metrics-port`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from logistic.container import Container

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def serve_metrics(host: str, port: int, exposition: Callable[[], bytes]) -> ThreadingHTTPServer:
    """Answers GET /metrics with `exposition()` from a daemon thread; `shutdown()` ends it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.partition("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = exposition()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes are not worth a log line each."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics-port", daemon=True).start()
    return server


@contextmanager
def published_metrics(container: Container, port: int | None) -> Iterator[None]:
    """A long-running command's metrics (the scheduler's, the dispatcher's), written every
    interval while it runs and once more when it ends: served on `port` when given (its
    counts then stay out of the API's /metrics), else into the API's metrics directory."""
    if port is not None:
        container.metrics_store.override(container.process_metrics_store)
    publisher = container.metrics_publisher()
    publisher.start()
    exposer = None
    if port is not None:
        exposer = serve_metrics(
            container.settings().host, port, container.metrics_store().exposition
        )
    try:
        yield
    finally:
        publisher.stop()
        if exposer is not None:
            exposer.shutdown()
