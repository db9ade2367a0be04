"""A lease on a name, so that one process among several does a job (one producer per slot)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Protocol

from attrs import field, frozen

from logistic.domain.errors import InvalidInput

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}")


def check_lock_name(name: str) -> None:
    """Lock names are ASCII letters, digits, ".", "_", ":" and "-" (they become file names)."""
    if _NAME.fullmatch(name) is None:
        raise InvalidInput(f"{name!r} is not a valid lock name")


def ttl_milliseconds(ttl: timedelta) -> int:
    """The lease length in whole milliseconds; InvalidInput when under one millisecond."""
    milliseconds = ttl // timedelta(milliseconds=1)
    if milliseconds < 1:
        raise InvalidInput(f"a lock must be held for at least a millisecond, not {ttl}")
    return milliseconds


@frozen
class LockToken:
    """Proof of holding the lock `name`: only this token can release it."""

    name: str
    value: str = field(repr=False)


class Lock(Protocol):
    """Named leases that expire on their own, so a crashed holder cannot block others forever.

    A back end that fails raises StorageUnavailable; an invalid name or ttl raises InvalidInput.
    """

    def acquire(self, name: str, ttl: timedelta) -> LockToken | None:
        """Hold `name` for `ttl` and return the token; None when another owner holds it.

        Acquiring is atomic: of concurrent callers (threads, processes, or
        machines, as far as the back end reaches), exactly one gets a token.
        """
        ...

    def release(self, token: LockToken) -> None:
        """Give the lock up, if `token` still holds it.

        A token whose lease expired and was taken by another owner releases
        nothing: the new owner keeps the lock. Releasing twice is harmless.
        """
        ...
