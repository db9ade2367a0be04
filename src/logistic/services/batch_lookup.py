"""Many parcels in one call (POST /query): the cached bodies in one multi-key read, the
rest from the database in one read, rendered and cached as /query caches them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from logistic.domain.errors import CacheUnavailable
from logistic.domain.model import Shipment
from logistic.ports.cache import Cache
from logistic.ports.repositories import ShipmentRepository
from logistic.services.cache_warnings import warning_level
from logistic.services.etag import tagged
from logistic.services.tracking import NEGATIVE_TTL, Tracking, View, missing_key, tracking_key

log = logging.getLogger(__name__)

MAX_SNOS = 50
_MISSING = b"1"


class BatchLookup:
    """The tagged bodies (`etag.tagged`) of many snos at once, with Tracking's rules.

    Cached bodies and unknown-sno entries come from one `get_many`; the misses from
    one `ShipmentRepository.get_many`, cached with one `set_many`. As Tracking does
    for one body, every body cached is then checked against the event counts read
    again (one read for them all), and the entries of orders that moved on, or of
    snos remembered as unknown that exist by now, are deleted. A cache that is down
    is read around: every sno then comes from the database.
    """

    def __init__(
        self,
        tracking: Tracking,
        shipments: ShipmentRepository,
        cache: Cache,
        negative_ttl: timedelta = NEGATIVE_TTL,
    ) -> None:
        self._tracking = tracking
        self._shipments = shipments
        self._cache = cache
        self._negative_ttl = negative_ttl

    def tagged_bodies(self, snos: Sequence[int], view: View) -> dict[int, bytes | None]:
        """Each distinct sno's tagged body; None for a sno no order has."""
        unique = list(dict.fromkeys(snos))
        keys = {sno: self._tracking.servable_key(sno, view) for sno in unique}
        negatives = {sno: self._tracking.negative_key(sno) for sno in unique}
        wanted = [key for key in (*keys.values(), *negatives.values()) if key is not None]
        try:
            values = dict(zip(wanted, self._cache.get_many(wanted), strict=True))
        except CacheUnavailable as error:
            log.log(
                warning_level(error),
                "cache unavailable, reading %d snos from the database: %s",
                len(unique),
                error,
            )
            values = {}
        found: dict[int, bytes | None] = {}
        misses = []
        for sno in unique:
            key, negative = keys[sno], negatives[sno]
            body = None if key is None else values.get(key)
            if body is not None:
                found[sno] = body
            elif negative is not None and values.get(negative) is not None:
                found[sno] = None
            else:
                misses.append(sno)
        if misses:
            found.update(self._filled(misses, view))
        return found

    def _filled(self, snos: list[int], view: View) -> dict[int, bytes | None]:
        shipments = self._shipments.get_many(snos)
        filled: dict[int, bytes | None] = {}
        entries = []
        for sno in snos:
            shipment = shipments.get(sno)
            if shipment is None:
                filled[sno] = None
                continue
            value = filled[sno] = tagged(self._tracking.render(shipment, view))
            entries.append((tracking_key(sno, view), value, self._tracking.ttl_for(shipment)))
        unknown = [sno for sno in snos if sno not in shipments]
        if self._negative_ttl:
            entries += [(missing_key(sno), _MISSING, self._negative_ttl) for sno in unknown]
        else:
            unknown = []
        try:
            self._cache.set_many(entries)
        except CacheUnavailable as error:
            # Perhaps some stored: checked as if all were.
            log.log(
                warning_level(error),
                "cache unavailable, %d entries perhaps not stored: %s",
                len(entries),
                error,
            )
        self._check(list(shipments.values()), unknown)
        return filled

    def _check(self, shipments: list[Shipment], unknown: list[int]) -> None:
        """Deletes what a writer overtook while it was read: bodies of orders with more
        events by now, and unknown-sno entries of orders created meanwhile."""
        in_flight = [
            shipment
            for shipment in shipments
            if shipment.current_status is None or not shipment.current_status.is_terminal
        ]
        checked = [shipment.sno for shipment in in_flight] + unknown
        if not checked:
            return
        counts = self._shipments.event_counts(checked)
        stale = [
            shipment.sno
            for shipment in in_flight
            if counts.get(shipment.sno) != len(shipment.events)
        ]
        stale += [sno for sno in unknown if sno in counts]
        if stale:
            self._tracking.forget(stale)
