"""Idempotency-Key: a retried request gets the first answer, and its action runs once."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from logistic.domain.errors import InvalidInput, StorageUnavailable
from logistic.ports.clock import Clock
from logistic.ports.idempotency import Answer, ClaimedWrites, IdempotencyKeys, WriteClaim

log = logging.getLogger(__name__)

RETENTION = timedelta(hours=24)
# A claim not completed within this long belongs to a request that died; gunicorn
# ends a request after 30 seconds.
LEASE = timedelta(seconds=60)
PURGE_EVERY = timedelta(hours=1)
MAX_KEY_LENGTH = 255


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(0x20 < ord(char) < 0x7F for char in key):
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, no spaces"
        )


def write_claim(caller: str, key: str, request: str, at: datetime) -> WriteClaim:
    """The claim of a write whose key comes with the item it protects (an item of
    POST /events), not with a request: the caller's own, as Idempotency-Key is, and
    kept apart from those (the same text as an Idempotency-Key is another key)."""
    check_key(key)
    return WriteClaim(_digest(caller, "item", key), _digest(request), at)


class Idempotency:
    def __init__(
        self,
        keys: IdempotencyKeys,
        clock: Clock,
        retention: timedelta = RETENTION,
        claimed_writes: Sequence[ClaimedWrites] = (),
    ) -> None:
        self._keys = keys
        self._claimed_writes = tuple(claimed_writes)
        self._clock = clock
        self._retention = retention
        self._next_purge: datetime | None = None
        self._purge_lock = threading.Lock()

    def run(
        self, caller: str, key: str, request: str, action: Callable[[WriteClaim], Answer]
    ) -> tuple[Answer, bool]:
        """`action`'s answer, and False; or the answer stored for this key, and True.

        Keys are the caller's own: two callers never see each other's answers.
        Only successful answers are kept; when `action` raises, the key is released
        so that a retry runs again. The same key with another `request` is refused.

        `action` is given the key's WriteClaim to store with its write: a retry that
        finds it knows the write was made by a request that died, or failed, before
        its answer was kept here (a key is taken over once its lease has passed, and
        released when the action raised). The claims are forgotten with the keys,
        from the `claimed_writes` given, and carry the same time as the key.
        """
        check_key(key)
        now = self._clock.now()
        self._purge_now_and_then(now)
        claim = _digest(caller, key)
        fingerprint = _digest(request)
        stored = self._keys.claim(claim, fingerprint, now, LEASE)
        if stored is not None:
            return stored, True
        try:
            answer = action(WriteClaim(claim, fingerprint, now))
        except Exception:
            self._release(claim)
            raise
        self._keys.complete(claim, answer)
        return answer, False

    def _release(self, claim: str) -> None:
        try:
            self._keys.release(claim)
        except StorageUnavailable as error:
            # The claim lapses after LEASE; until then a retry is told to wait.
            log.warning("releasing an idempotency key failed: %s", error)

    def _purge_now_and_then(self, now: datetime) -> None:
        with self._purge_lock:
            if self._next_purge is not None and now < self._next_purge:
                return
            self._next_purge = now + PURGE_EVERY
        before = now - self._retention
        try:
            # Claims first: a claim must not outlive its key (a new request with the
            # key, once forgotten, would be taken for a retry). A claim carries the
            # time its key was claimed (or taken over), so it is never the younger.
            for writes in self._claimed_writes:
                writes.forget_claims(before)
            purged = self._keys.purge(before)
        except StorageUnavailable as error:
            log.warning("purging old idempotency keys failed: %s", error)
            return
        if purged:
            log.info("purged %d idempotency keys older than %s", purged, self._retention)
