"""`logistic dispatcher`: delivers the webhook outbox until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from logistic.container import Container
from logistic.entrypoints.metrics_port import published_metrics

log = logging.getLogger(__name__)


def deliver_until_stopped(container: Container, metrics_port: int | None = None) -> None:
    """Run the dispatcher in this (main) thread; a signal stops it after the attempts under
    way are recorded (a second one is not waited for: the leases then hand them on).

    Its metrics are served on `metrics_port`, else written into the metrics directory of
    the API on LOGISTIC_PORT (as the scheduler's)."""
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
    with published_metrics(container, metrics_port):
        dispatcher.run()
