"""A quota of requests per client and window; over it, RateLimited (HTTP 429)."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from attrs import frozen

from logistic.domain.errors import RateLimited, StorageUnavailable
from logistic.ports.clock import Clock
from logistic.ports.rate_limiter import RateLimiter, Window
from logistic.services.cache_warnings import warning_level

log = logging.getLogger(__name__)


@frozen
class Quota:
    requests: int
    period: timedelta


@frozen
class Tally:
    """The counter a request is counted on (its key and window, as seen at `now`) and its limit."""

    key: str
    window: Window
    now: datetime
    limit: int


@frozen
class Allowance:
    limit: int
    remaining: int
    reset_after: int  # whole seconds until the window ends


class Throttle:
    """Admits a client's request or refuses it; `quota=None` admits everything.

    Fixed windows aligned on the epoch: a client may send up to twice the quota
    across a window boundary, never more. When the counter's back end fails the
    request is admitted (and logged): the limit protects the service, it must
    not take it down.
    """

    def __init__(self, limiter: RateLimiter, clock: Clock, quota: Quota | None) -> None:
        self._limiter = limiter
        self._clock = clock
        self._quota = quota
        # The window of the latest request: the next ones mostly fall in it too.
        self._window: Window | None = None

    def admit(self, client: str, scope: str = "query", amount: int = 1) -> Allowance | None:
        """Counts `amount` requests of `client` (a batch lookup counts each of its snos)."""
        tally = self.tally(client, scope)
        if tally is None:
            return None
        try:
            count = self._limiter.hit(tally.key, tally.window, amount)
        except StorageUnavailable as error:
            log.log(
                warning_level(error), "rate limiter unavailable, admitting %s: %s", client, error
            )
            return None
        return self.judge(tally, count)

    def tally(self, client: str, scope: str = "query") -> Tally | None:
        """Where a request of `client` counts now; None when no quota is set."""
        quota = self._quota
        if quota is None:
            return None
        now = self._clock.now()
        window = self._window
        if window is None or not window.start <= now < window.end:
            window = self._window = Window.containing(now, quota.period)
        return Tally(f"{scope}:{client}", window, now, quota.requests)

    def judge(self, tally: Tally, count: int) -> Allowance:
        """The allowance left after `count` requests on `tally`; RateLimited past the quota."""
        limit = tally.limit
        reset_after = max(1, math.ceil((tally.window.end - tally.now).total_seconds()))
        if count > limit:
            raise RateLimited(limit, retry_after=reset_after)
        return Allowance(limit, limit - count, reset_after)
