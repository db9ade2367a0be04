"""The hot path of /query: the caller counted and the cached body read in one trip."""

from __future__ import annotations

import logging

from logistic.domain.errors import StorageUnavailable
from logistic.ports.cache import CountedCache
from logistic.services.rate_limit import Throttle
from logistic.services.tracking import Tracking, View

log = logging.getLogger(__name__)


class QuickQuery:
    """Counts a /query against the quota and reads its cached body together.

    `cached` returns the body when the cache holds one that may be served, else
    None. Either way the request has been counted (or admitted while the counter
    is down, as Throttle.admit does), so the caller goes on with
    Tracking.uncached_body and does not count it again. RateLimited past the
    quota. Without a CountedCache (the counter and the cache in different back
    ends) the two are asked one after the other.
    """

    def __init__(
        self, throttle: Throttle, tracking: Tracking, counted: CountedCache | None
    ) -> None:
        self._throttle = throttle
        self._tracking = tracking
        self._counted = counted

    def cached(self, client: str, sno: int, view: View) -> bytes | None:
        key = self._tracking.servable_key(sno, view)
        tally = self._throttle.tally(client)
        if key is None or tally is None or self._counted is None:
            self._throttle.admit(client)
            return None if key is None else self._tracking.cached(key)
        try:
            count, body = self._counted.hit_and_get(tally.key, tally.window, key)
        except StorageUnavailable as error:
            log.warning("cache and rate limiter unavailable, admitting %s: %s", client, error)
            return None
        self._throttle.judge(tally, count)
        return body
