"""No cached body older than a recorded event, whichever process answers (ports/cache_fence.py).

A process that cannot delete the entries a write made stale advances the database's
cache generation and waits one lease (and a margin for the hosts' clocks) before it
answers the write. Meanwhile every process extends the fence only while it carries the
generation it just read from the database; once the fence lapses or its generation is
behind, one process empties the cache and sets the fence again. So after that wait no
process can read an entry written before the write: the fence it would need has either
expired or was set after the cache was emptied. A hit reads the fence in the same
command as its entry: it costs no database round trip.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from logistic.domain.errors import StorageUnavailable
from logistic.ports.cache_fence import CacheFence, CacheGenerations
from logistic.ports.clock import Clock

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=1)
# How far apart the clocks of the application hosts and Redis's may be (NTP keeps them
# within milliseconds).
CLOCK_MARGIN = timedelta(milliseconds=500)


class Freshness:
    def __init__(
        self,
        generations: CacheGenerations,
        fence: CacheFence,
        clock: Clock,
        lease: timedelta = LEASE,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._generations = generations
        self._fence = fence
        self._clock = clock
        self._lease_ms = int(lease / timedelta(milliseconds=1))
        self._wait_s = (lease + CLOCK_MARGIN).total_seconds()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._advanced_at: float | None = None

    def keep(self) -> None:
        """One round: extend the fence, or empty the cache and set it again.

        StorageUnavailable when the database or the cache cannot be used; the fence
        then lapses and every read is a miss until a later round succeeds.
        """
        generation, now_ms = self._generation_now()
        if self._fence.hold(generation, now_ms + self._lease_ms):
            return
        if not self._fence.clear():
            return  # another process empties the cache: its fence will do
        after, now_ms = self._generation_now()
        if after != generation:
            return  # a delete failed while the cache was emptied: the next round empties it again
        self._fence.start(generation, now_ms + self._lease_ms)
        log.info("cache emptied and fenced at generation %d", generation)

    def breached(self, since: float) -> None:
        """Called by a writer whose cache delete failed, before it answers: returns once no
        process can read what that delete should have removed. `since`: when (on
        `time.monotonic`) the write was committed, or later; an advance made since then
        serves again. StorageUnavailable when the database cannot record it."""
        with self._lock:
            if self._advanced_at is None or self._advanced_at < since:
                self._generations.advance()
                self._advanced_at = time.monotonic()
            remaining = self._advanced_at + self._wait_s - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

    def run(self, stop: threading.Event) -> None:
        """`keep` four times a lease until `stop` is set."""
        interval = self._lease_ms / 4000
        while True:
            try:
                self.keep()
            except StorageUnavailable as error:
                log.debug("cache fence not kept: %s", error)
            if stop.wait(interval):
                return

    def _generation_now(self) -> tuple[int, int]:
        # The time is read before the generation: the lease may only be shorter for it.
        now_ms = int(self._clock.now().timestamp() * 1000)
        return self._generations.current(), now_ms
