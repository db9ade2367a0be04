"""The hot path of /query: the caller counted and the cached body read in one trip."""

from __future__ import annotations

import logging
from collections.abc import Callable

from attrs import frozen

from logistic.domain.errors import StorageUnavailable
from logistic.ports.cache import CountedCache
from logistic.services.cache_warnings import warning_level
from logistic.services.metering import CACHE_LOOKUPS, SILENT, Meter
from logistic.services.rate_limit import Allowance, Throttle
from logistic.services.tracking import Tracking, View

log = logging.getLogger(__name__)


@frozen
class Counted:
    """A /query counted against the quota, and what the cache holds for it."""

    allowance: Allowance | None  # None without a quota, or while the counter is down
    body: bytes | None  # the cached body after its entity tag, when one may be served
    unknown: bool = False  # the cache remembers the sno as unknown


class QuickQuery:
    """Counts a /query against the quota and reads its cached body together.

    The request is counted (or admitted while the counter is down, as
    Throttle.admit does), so when `cached` finds no body the caller goes on with
    Tracking.uncached_body(negative_checked=True) and does not count it again.
    RateLimited past the quota. Without a CountedCache (the counter and the cache
    in different back ends) they are asked one after the other.
    """

    def __init__(
        self,
        throttle: Throttle,
        tracking: Tracking,
        counted: CountedCache | None,
        meter: Meter = SILENT,
    ) -> None:
        self._meter = meter
        self._throttle = throttle
        self._tracking = tracking
        self._counted = counted

    def cached(self, client: str, sno: int, view: View, held: bytes | None = None) -> Counted:
        """`held`: the entity tag the caller holds; a body that still has it comes back as
        the tag alone (CountedCache.hit_and_get), to be answered 304."""
        return self.counted(client, sno, self._tracking.servable_key(sno, view), held)

    def counted(self, client: str, sno: int, key: str | None, held: bytes | None = None) -> Counted:
        """`cached` for any entry of `sno` (a page: Tracking.servable of its key)."""
        negative = self._tracking.negative_key(sno)
        tally = self._throttle.tally(client)
        if tally is None or self._counted is None:
            allowance = self._throttle.admit(client)
            return self._looked_up(_counted(allowance, key, negative, self._tracking.cached))
        wanted = [wanted for wanted in (key, negative) if wanted is not None]
        try:
            count, values = self._counted.hit_and_get(
                tally.key, tally.window, wanted, held if key is not None else None
            )
        except StorageUnavailable as error:
            self._meter.add(CACHE_LOOKUPS, "error")
            log.log(
                warning_level(error),
                "cache and rate limiter unavailable, admitting %s: %s",
                client,
                error,
            )
            return Counted(None, None)
        allowance = self._throttle.judge(tally, count)
        found = dict(zip(wanted, values, strict=True)).get
        return self._looked_up(_counted(allowance, key, negative, found))

    def _looked_up(self, counted: Counted) -> Counted:
        """`counted`, counted as a cache hit when it found a body or the unknown marker."""
        hit = counted.body is not None or counted.unknown
        self._meter.add(CACHE_LOOKUPS, "hit" if hit else "miss")
        return counted


def _counted(
    allowance: Allowance | None,
    key: str | None,
    negative: str | None,
    cached: Callable[[str], bytes | None],
) -> Counted:
    body = None if key is None else cached(key)
    unknown = body is None and negative is not None and cached(negative) is not None
    return Counted(allowance, body, unknown)
