"""A process's counts written out to the MetricsStore once a second, and when it ends."""

from __future__ import annotations

import logging
import threading

from logistic.ports.metrics_store import MetricsStore
from logistic.services.metering import Meter

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


class MetricsPublisher:
    """Writes `meter`'s totals into `store` every `interval` seconds from a daemon thread,
    so a scrape of any process of the host sees this one's counts at most that late."""

    def __init__(
        self, meter: Meter, store: MetricsStore, interval: float = INTERVAL_SECONDS
    ) -> None:
        self._meter = meter
        self._store = store
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self) -> None:
        if not self._meter.enabled:
            return
        try:
            self._store.write(self._meter.reading())
        except OSError as error:
            log.warning("metrics not written (the next round tries again): %s", error)

    def start(self) -> None:
        if not self._meter.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after one last write."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 1)
        self.publish()

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            self.publish()
