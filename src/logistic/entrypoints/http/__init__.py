"""The Flask application factory."""

from __future__ import annotations

from flask import Flask, Response

from logistic.container import Container, container_from_environment
from logistic.domain.access import Scope
from logistic.entrypoints.http import errors
from logistic.entrypoints.http.auth import guard
from logistic.entrypoints.http.batch import batch
from logistic.entrypoints.http.contract import contract
from logistic.entrypoints.http.dashboard import install as install_dashboard
from logistic.entrypoints.http.events import events
from logistic.entrypoints.http.fast_path import FastPath
from logistic.entrypoints.http.ingest import ingest
from logistic.entrypoints.http.metrics import metrics
from logistic.entrypoints.http.pages import install as install_pages
from logistic.entrypoints.http.reports import reports
from logistic.entrypoints.http.request_meter import RequestMeter, name_route
from logistic.entrypoints.http.views import api
from logistic.entrypoints.http.webhooks import webhooks


class JsonResponse(Response):
    # Responses Flask makes by itself (the automatic OPTIONS answer) are not HTML either.
    default_mimetype = "application/json"


def create_app(container: Container | None = None) -> Flask:
    app = Flask("logistic")
    app.response_class = JsonResponse
    app.extensions["logistic"] = container = container or container_from_environment()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.before_request(name_route)  # first, before any guard may refuse the request
    app.register_blueprint(api)
    app.register_blueprint(events)
    guard(app, "events", Scope.EVENTS_WRITE)
    guard(app, "reports", Scope.REPORTS_READ, always=False)
    app.register_blueprint(reports)
    app.register_blueprint(batch)
    app.register_blueprint(contract)
    app.register_blueprint(webhooks)
    guard(app, "webhooks", Scope.WEBHOOKS_WRITE)
    app.register_blueprint(metrics)
    app.register_blueprint(ingest)
    guard(app, "ingest", Scope.EVENTS_WRITE)
    errors.register(app)
    install_pages(app, container)
    install_dashboard(app, container, app.extensions["logistic.pages"].renderer)
    # Cached /query bodies skip Flask's own work (see fast_path.py).
    app.wsgi_app = FastPath(app.wsgi_app, container)  # type: ignore[method-assign]
    # Outermost: every request, the fast paths' too, gets its id and is counted.
    settings = container.settings()
    app.wsgi_app = RequestMeter(  # type: ignore[method-assign]
        app.wsgi_app, container.meter(), settings.access_log_sample
    )
    return app
