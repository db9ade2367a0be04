"""Where is my parcel? Cache-aside lookup of the /query body, and write-through after events."""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta, tzinfo

from logistic.domain.errors import CacheUnavailable, ShipmentNotFound
from logistic.domain.model import Shipment
from logistic.domain.privacy import anonymized
from logistic.ports.cache import Cache
from logistic.ports.repositories import ShipmentRepository
from logistic.services.cache_warnings import warning_level
from logistic.services.etag import tagged, untagged
from logistic.services.freshness import Freshness
from logistic.services.locations import Locations
from logistic.services.metering import CACHE_LOOKUPS, SILENT, Meter
from logistic.services.rendering import to_json_bytes, tracking_document

log = logging.getLogger(__name__)

# A delivered or returned parcel takes no more events: its body can live longer.
TERMINAL_TTL = timedelta(hours=24)
NEGATIVE_TTL = timedelta(seconds=60)
MAX_PENDING_DELETES = 100_000
_MISSING = b"1"


class View(enum.StrEnum):
    """How much of the recipient a caller may see; each has its own cache entries."""

    MASKED = "masked"
    FULL = "full"


def tracking_key(sno: int, view: View = View.MASKED) -> str:
    """Where the body of `sno` in `view` is cached, after its entity tag (services/etag.py).

    Releases before entity tags kept the bare body under `query:<view>:<sno>`: the new
    name keeps either release from reading the other's values during a rolling upgrade
    (docs/upgrading.md)."""
    return f"query:tagged:{view}:{sno}"


def missing_key(sno: int) -> str:
    return f"query:missing:{sno}"


def page_key(sno: int, language: str) -> str:
    """The tracking page of `sno` in `language`, as anyone may see it (masked)."""
    return f"page:{language}:{sno}"


def keys_of(sno: int) -> tuple[str, ...]:
    return (*(tracking_key(sno, view) for view in View), missing_key(sno))


class Tracking:
    """Answers /query with the exact bytes cached on first read, until a write replaces them.

    Every body put in the cache is checked against the database's event count
    right after: when another writer committed in between, the entry is deleted,
    so an older body never outlives a newer write (a delivered or returned
    shipment's body is final and needs no check). Deletes that fail (the cache
    is down) are retried at this process's next request; the TTL bounds the rest.
    """

    def __init__(
        self,
        shipments: ShipmentRepository,
        locations: Locations,
        cache: Cache,
        zone: tzinfo,
        ttl: timedelta,
        negative_ttl: timedelta = NEGATIVE_TTL,
        page_languages: Sequence[str] = (),
        freshness: Freshness | None = None,
        meter: Meter = SILENT,
    ) -> None:
        self._meter = meter
        self._shipments = shipments
        self._locations = locations
        self._cache = cache
        self._zone = zone
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._page_languages = tuple(page_languages)
        self._pending_deletes: dict[str, None] = {}
        self._lock = threading.Lock()
        self._freshness = freshness

    def ttl_for(self, shipment: Shipment) -> timedelta:
        """LOGISTIC_CACHE_TTL while in flight; at least a day once delivered or returned."""
        status = shipment.current_status
        if status is not None and status.is_terminal:
            return max(self._ttl, TERMINAL_TTL)
        return self._ttl

    def render(self, shipment: Shipment, view: View) -> bytes:
        shown = shipment if view is View.FULL else anonymized(shipment)
        return to_json_bytes(tracking_document(shown, self._locations.by_id(), self._zone))

    def servable_key(self, sno: int, view: View = View.MASKED) -> str | None:
        """The cache key of this body, unless it awaits its delete (then it may be stale)."""
        return self.servable(tracking_key(sno, view))

    def servable(self, key: str) -> str | None:
        """`key` (a body's or a page's), unless it awaits its delete (then it may be stale)."""
        self._retry_deletes()
        return None if key in self._pending_deletes else key

    def keys(self, sno: int) -> tuple[str, ...]:
        """Every cache entry of `sno`: its bodies, its pages, its unknown-sno marker."""
        return (*keys_of(sno), *(page_key(sno, language) for language in self._page_languages))

    def negative_key(self, sno: int) -> str | None:
        """The key that remembers `sno` as unknown; None when unknown snos are not remembered."""
        return missing_key(sno) if self._negative_ttl else None

    def cached(self, key: str) -> bytes | None:
        """The bytes cached under `key` (from `servable_key` or `negative_key`); None too
        while the cache is down. A body comes after its entity tag (`etag.untagged`)."""
        return self._get(key)

    def body(self, sno: int, view: View = View.MASKED) -> bytes:
        return untagged(self.tagged_body(sno, view))[1]

    def tagged_body(self, sno: int, view: View = View.MASKED) -> bytes:
        """The body after its entity tag (`etag.tagged`), as the cache keeps it."""
        key = self.servable_key(sno, view)
        cached = None if key is None else self._get(key)
        self._meter.add(CACHE_LOOKUPS, "miss" if cached is None else "hit")
        if cached is not None:
            return cached
        return self.uncached_tagged_body(sno, view)

    def uncached_body(
        self, sno: int, view: View = View.MASKED, negative_checked: bool = False
    ) -> bytes:
        """`body` for a caller who found nothing in the cache a moment ago (nor, when
        `negative_checked`, under `negative_key`)."""
        return untagged(self.uncached_tagged_body(sno, view, negative_checked))[1]

    def uncached_tagged_body(
        self, sno: int, view: View = View.MASKED, negative_checked: bool = False
    ) -> bytes:
        """`tagged_body` for a caller who found nothing in the cache (see `uncached_body`)."""
        return self.uncached(
            sno, tracking_key(sno, view), lambda shipment: tagged(self.render(shipment, view)),
            negative_checked,
        )  # fmt: skip

    def uncached(
        self,
        sno: int,
        key: str,
        render: Callable[[Shipment], bytes],
        negative_checked: bool = False,
    ) -> bytes:
        """What `render` makes of the shipment, read from the database and cached under
        `key` with the same checks as a body (a page, say). ShipmentNotFound."""
        negative = None if negative_checked else self.negative_key(sno)
        if negative is not None and self._get(negative) is not None:
            raise ShipmentNotFound(sno)
        shipment = self._shipments.get(sno)
        if shipment is None:
            self._remember_missing(sno)
            raise ShipmentNotFound(sno)
        rendered = render(shipment)
        self._store(shipment, {key: rendered}, replacing=False)
        return rendered

    def refresh(self, shipment: Shipment) -> dict[View, bytes]:
        """Write-through after `shipment` was committed: every view's body is replaced,
        its pages dropped (the next view renders them)."""
        since = time.monotonic()
        self._retry_deletes()
        bodies = {view: self.render(shipment, view) for view in View}
        entries = {tracking_key(shipment.sno, view): tagged(body) for view, body in bodies.items()}
        self._store(shipment, entries, replacing=True, since=since)
        pages = [page_key(shipment.sno, language) for language in self._page_languages]
        self._delete(pages, since)
        return bodies

    def forget(self, snos: Iterable[int]) -> None:
        """Drop every entry of these snos (new orders: no negative entry may hide them)."""
        self._delete([key for sno in snos for key in self.keys(sno)], time.monotonic())

    def forget_now(self, snos: Iterable[int]) -> None:
        """`forget` for a process that answers no requests (seeding): a delete that fails
        is not kept for a retry that would never come. CacheUnavailable then."""
        self._cache.delete(*[key for sno in snos for key in self.keys(sno)])

    def _get(self, key: str) -> bytes | None:
        try:
            found = self._cache.get(key)
        except CacheUnavailable as error:
            self._meter.add(CACHE_LOOKUPS, "error")
            log.log(
                warning_level(error),
                "cache unavailable, reading %s from the database: %s",
                key,
                error,
            )
            return None
        return found

    def _store(
        self,
        shipment: Shipment,
        entries: Mapping[str, bytes],
        replacing: bool,
        since: float | None = None,
    ) -> None:
        since = time.monotonic() if since is None else since
        ttl = self.ttl_for(shipment)
        failed = False
        for key, body in entries.items():
            try:
                self._cache.set(key, body, ttl)
            except CacheUnavailable as error:
                failed = True
                log.log(warning_level(error), "cache unavailable, %s not stored: %s", key, error)
        # A failed write-through leaves the previous body behind; a body read before
        # another writer's commit must not outlive that writer's own write-through.
        if (failed and replacing) or self._moved_on(shipment):
            self._delete(list(entries), since)

    def _moved_on(self, shipment: Shipment) -> bool:
        """Whether a newer history than `shipment`'s has been committed.

        A delivered or returned shipment takes no more events: the lifecycle allows
        none after them, and every event goes through `Shipment.record` (Recording),
        whose expected event count makes a writer holding an older snapshot fail. So
        its body is final and the database is not asked: half the misses of a
        carrier's data skip this second query.
        """
        status = shipment.current_status
        if status is not None and status.is_terminal:
            return False
        return self._shipments.event_count(shipment.sno) != len(shipment.events)

    def _remember_missing(self, sno: int) -> None:
        if not self._negative_ttl:
            return
        try:
            self._cache.set(missing_key(sno), _MISSING, self._negative_ttl)
        except CacheUnavailable as error:
            log.log(
                warning_level(error),
                "cache unavailable, unknown sno %s not remembered: %s",
                sno,
                error,
            )
            return
        # The order may have been created since we looked (its creator deleted this key
        # before we set it): look once more.
        if self._shipments.event_count(sno) is not None:
            self._delete([missing_key(sno)], time.monotonic())

    def _delete(self, keys: list[str], since: float) -> None:
        """Delete `keys`; when that fails, they are retried later by this process, and
        with `freshness` no process reads them after this returns (services/freshness.py).
        `since`: when the change that makes them stale was committed, or later."""
        if not keys:
            return
        try:
            self._cache.delete(*keys)
        except CacheUnavailable as error:
            log.log(
                warning_level(error),
                "cache unavailable, %d stale keys deleted later: %s",
                len(keys),
                error,
            )
            with self._lock:
                self._pending_deletes.update(dict.fromkeys(keys))
                excess = len(self._pending_deletes) - MAX_PENDING_DELETES
                if excess > 0:
                    # The oldest go first; their TTL still bounds them. One rebuild: deleting
                    # them one by one from the front of a dict costs quadratic time.
                    kept = itertools.islice(self._pending_deletes, excess, None)
                    self._pending_deletes = dict.fromkeys(kept)
            if self._freshness is not None:
                self._freshness.breached(since)

    def _retry_deletes(self) -> None:
        if not self._pending_deletes:
            return
        with self._lock:
            keys = list(self._pending_deletes)
        try:
            self._cache.delete(*keys)
        except CacheUnavailable:
            return
        with self._lock:
            for key in keys:
                self._pending_deletes.pop(key, None)
        log.info("cache back: deleted %d stale keys", len(keys))
