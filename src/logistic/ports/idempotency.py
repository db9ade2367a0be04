"""The first answer to each Idempotency-Key, so that a retry is answered without a second write."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from attrs import frozen


@frozen
class Answer:
    status: int
    body: bytes


class IdempotencyKeys(Protocol):
    """Claims on keys, then the answers given under them.

    `key` and `fingerprint` are opaque strings of at most 64 characters (digests).
    A back end that fails raises StorageUnavailable.
    """

    def claim(self, key: str, fingerprint: str, now: datetime, lease: timedelta) -> Answer | None:
        """None when the caller now holds `key` and must `complete` or `release` it.

        The stored answer when a request with `key` completed already. Raises
        IdempotencyKeyReused when `key` was claimed for another fingerprint, and
        IdempotencyConflict while another caller holds it (claimed less than `lease`
        ago and not completed); an older claim is abandoned and taken over.
        Atomic: of concurrent claims on one key, at most one returns None.
        """
        ...

    def complete(self, key: str, answer: Answer) -> None:
        """Keep `answer` as the answer to every later claim of `key`."""
        ...

    def release(self, key: str) -> None:
        """Give up a claim that has no answer (the request failed), so a retry may run."""
        ...

    def purge(self, before: datetime) -> int:
        """Forget keys claimed before `before`, answered or not; how many were forgotten."""
        ...


@frozen
class WriteClaim:
    """A claimed Idempotency-Key, as the action run under it stores it with its write.

    `key` stands for the caller's key and `fingerprint` for the request (lowercase
    hex digests of at most 64 characters); `at` is when the key was claimed. Stored
    in the write's own transaction, it tells a retry that the write was made, even
    when the request that made it died before its answer was kept.
    """

    key: str
    fingerprint: str
    at: datetime


class ClaimedWrites(Protocol):
    """Where actions run under a key store its WriteClaim with their write."""

    def forget_claims(self, before: datetime) -> int:
        """Forget the claims made before `before`; how many were forgotten."""
        ...
