"""An app's Flask alone (no fast path), behind the request meter every request passes."""

from __future__ import annotations

from typing import Any, cast

from flask import Flask

from logistic.container import Container
from logistic.entrypoints.http.request_meter import RequestMeter, WsgiApp


def behind_request_meter(app: Flask) -> RequestMeter:
    container = cast(Container, app.extensions["logistic"])

    def flask_only(environ: dict[str, Any], start: Any) -> Any:
        return Flask.wsgi_app(app, environ, start)

    return RequestMeter(cast(WsgiApp, flask_only), container.meter(), 0.0)
