"""GET /metrics: every process's counts in the Prometheus text format, for the host's scraper.

Open to the addresses of LOGISTIC_METRICS_FROM (loopback by default), the client
found as for rate limits (behind a trusted proxy, the one it forwards for); anyone
else needs a key with `metrics:read`.
"""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Response

from logistic.domain.access import Scope
from logistic.domain.errors import StorageUnavailable
from logistic.entrypoints.http.auth import require
from logistic.entrypoints.http.clients import request_client
from logistic.entrypoints.http.views import container
from logistic.settings import ProxyNetwork

metrics = Blueprint("metrics", __name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@metrics.get("/metrics")
def exposition() -> Response:
    settings = container().settings()
    if not _among(request_client(settings.trusted_proxies), settings.metrics_from):
        require(Scope.METRICS_READ)
    # This process's latest counts, not the ones it wrote up to a second ago.
    container().metrics_publisher().publish()
    try:
        body = container().metrics_store().exposition()
    except OSError as error:
        raise StorageUnavailable(f"the metrics could not be read ({error.strerror})") from error
    return Response(body, content_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def _among(client: str, networks: tuple[ProxyNetwork, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in networks)
