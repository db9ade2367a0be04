"""The Flask application factory."""

from __future__ import annotations

from flask import Flask

from logistic.container import Container, container_from_environment
from logistic.entrypoints.http import errors
from logistic.entrypoints.http.views import api


def create_app(container: Container | None = None) -> Flask:
    app = Flask("logistic")
    app.extensions["logistic"] = container or container_from_environment()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.register_blueprint(api)
    errors.register(app)
    return app
