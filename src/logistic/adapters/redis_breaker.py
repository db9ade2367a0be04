"""A circuit breaker in front of Redis, one per process, shared by the cache, limiter and lock.

While Redis hangs, each command costs its whole timeout and a warning. After a few
failures in a row the breaker opens: for a short while Redis is not asked at all
(callers get CacheBypassed at once and answer from the database). Then one caller
probes; its success closes the breaker, its failure opens it again. Opening and
closing are each logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
from redis.exceptions import RedisClusterException

from logistic.domain.errors import CacheBypassed

log = logging.getLogger(__name__)

FAILURES_TO_OPEN = 3
OPEN_SECONDS = 2.0
# The errors that say Redis did not answer; any other reply (a ResponseError) is an answer.
UNANSWERED = (redis.ConnectionError, redis.TimeoutError, RedisClusterException)


class RedisBreaker:
    def __init__(
        self,
        failures_to_open: int = FAILURES_TO_OPEN,
        open_seconds: float = OPEN_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._failures_to_open = failures_to_open
        self._open_seconds = open_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def before(self) -> None:
        """Return when Redis may be asked; CacheBypassed while the breaker is open.

        Once the open interval has passed, one caller is let through as the probe.
        """
        if self._opened_at is None:  # the common case, without the lock
            return
        with self._lock:
            if self._opened_at is None:
                return
            if self._probing or self._monotonic() - self._opened_at < self._open_seconds:
                raise CacheBypassed("redis is left alone a few seconds after failing")
            self._probing = True

    def after(self, error: BaseException | None) -> None:
        """Record how a call let through by `before` ended (`error` None: it succeeded)."""
        if isinstance(error, UNANSWERED):
            self._failed(error)
        elif self._failures or self._opened_at is not None:
            self._answered()

    def _failed(self, error: BaseException) -> None:
        with self._lock:
            self._probing = False
            if self._opened_at is not None:  # the probe failed: stay open, quietly
                self._opened_at = self._monotonic()
                return
            self._failures += 1
            if self._failures < self._failures_to_open:
                return
            self._opened_at = self._monotonic()
        log.warning(
            "redis failed %d times in a row (%s): not asked for %g s at a time, the database"
            " answers meanwhile",
            self._failures_to_open,
            error,
            self._open_seconds,
        )

    def _answered(self) -> None:
        with self._lock:
            was_open = self._opened_at is not None
            self._failures = 0
            self._opened_at = None
            self._probing = False
        if was_open:
            log.warning("redis answers again: used from now on")
