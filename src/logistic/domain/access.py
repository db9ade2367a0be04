"""Who may do what: API keys carry scopes; a caller without a key has none."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable

from attrs import frozen

from logistic.domain.errors import InvalidInput


class Scope(enum.StrEnum):
    EVENTS_WRITE = "events:write"
    FAKE_WRITE = "fake:write"
    REPORTS_READ = "reports:read"
    PII_READ = "pii:read"
    WEBHOOKS_WRITE = "webhooks:write"
    METRICS_READ = "metrics:read"


def parse_scopes(names: Iterable[str]) -> frozenset[Scope]:
    scopes = set()
    for name in names:
        try:
            scopes.add(Scope(name.strip()))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise InvalidInput(f"unknown scope {name!r}; the scopes are {known}") from None
    return frozenset(scopes)


def key_digest(key: str) -> str:
    """What is stored of an API key: the SHA-256 of its text, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


@frozen
class Caller:
    """Whoever sent a request: anonymous, or the holder of one API key."""

    name: str
    scopes: frozenset[Scope] = frozenset()
    authenticated: bool = False

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes


ANONYMOUS = Caller("anonymous")
