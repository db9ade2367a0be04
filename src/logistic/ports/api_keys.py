"""Where the operator's API keys are kept: only their SHA-256 digests and scopes."""

from __future__ import annotations

from typing import Protocol

from attrs import frozen

from logistic.domain.access import Scope


@frozen
class StoredKey:
    digest: str
    scopes: frozenset[Scope]


class ApiKeys(Protocol):
    """The configured keys; none configured means the service runs without keys.

    A store that cannot be read, or holds a malformed entry, raises
    StorageUnavailable: a damaged key file must never open the routes it guards.
    """

    def all(self) -> tuple[StoredKey, ...]:
        """Every configured key, in the order they were added (empty when there are none)."""
        ...

    def add(self, key: StoredKey) -> None:
        """Store one more key; the running service sees it on its next request."""
        ...
