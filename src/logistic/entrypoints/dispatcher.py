"""`logistic dispatcher`: delivers the webhook outbox until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from logistic.container import Container
from logistic.entrypoints.metrics_port import serve_metrics

log = logging.getLogger(__name__)


def deliver_until_stopped(container: Container, metrics_port: int | None = None) -> None:
    """Run the dispatcher in this (main) thread; a signal stops it after the attempts under
    way are recorded (a second one is not waited for: the leases then hand them on).

    Its metrics are served on `metrics_port`, else written into the metrics directory of
    the API on LOGISTIC_PORT (as the scheduler's)."""
    if metrics_port is not None:
        # Scraped on its own port: its counts stay out of the API's /metrics.
        container.metrics_store.override(container.process_metrics_store)
    publisher = container.metrics_publisher()
    dispatcher = container.dispatcher()

    def _stop(signum: int, _: FrameType | None) -> None:
        log.info("received %s; stopping after the attempts under way", signal.Signals(signum).name)
        dispatcher.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    settings = container.settings().webhooks
    log.info(
        "delivering webhooks: %d workers, %d per endpoint", settings.workers, settings.per_endpoint
    )
    publisher.start()
    exposer = None
    if metrics_port is not None:
        exposer = serve_metrics(
            container.settings().host, metrics_port, container.metrics_store().exposition
        )
    try:
        dispatcher.run()
    finally:
        publisher.stop()
        if exposer is not None:
            exposer.shutdown()
