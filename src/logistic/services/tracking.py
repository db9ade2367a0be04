"""Where is my parcel? Cache-aside lookup of the /query body."""

from __future__ import annotations

import logging
from datetime import timedelta, tzinfo

from logistic.domain.errors import CacheUnavailable, ShipmentNotFound
from logistic.ports.cache import Cache
from logistic.ports.repositories import ShipmentRepository
from logistic.services.locations import Locations
from logistic.services.rendering import to_json_bytes, tracking_document

log = logging.getLogger(__name__)


def tracking_key(sno: int) -> str:
    return f"query:{sno}"


class Tracking:
    """Answers /query: the exact bytes cached on first read are served on every later read."""

    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        cache: Cache,
        zone: tzinfo,
        ttl: timedelta,
    ) -> None:
        self._shipments = shipments
        self._locations = locations
        self._cache = cache
        self._zone = zone
        self._ttl = ttl

    def cached_body(self, sno: int) -> bytes | None:
        try:
            return self._cache.get(tracking_key(sno))
        except CacheUnavailable as error:
            log.warning("cache unavailable, reading sno %s from the database: %s", sno, error)
            return None

    def body(self, sno: int) -> bytes:
        cached = self.cached_body(sno)
        if cached is not None:
            return cached
        return self.fresh_body(sno)

    def fresh_body(self, sno: int) -> bytes:
        """Read the database, render the body, and (best effort) store it in the cache."""
        shipment = self._shipments.get(sno)
        if shipment is None:
            raise ShipmentNotFound(sno)
        body = to_json_bytes(tracking_document(shipment, self._locations.by_id(), self._zone))
        try:
            self._cache.set(tracking_key(sno), body, self._ttl)
        except CacheUnavailable as error:
            log.warning("cache unavailable, sno %s not cached: %s", sno, error)
        return body
