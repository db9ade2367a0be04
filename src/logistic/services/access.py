"""API keys: who is calling, and may they do this."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable

from logistic.domain.access import ANONYMOUS, Caller, Scope, key_digest
from logistic.domain.errors import Forbidden, InvalidInput, Unauthorized
from logistic.ports.api_keys import ApiKeys, StoredKey

KEY_PREFIX = "lgk_"


def new_key_text() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class Access:
    def __init__(self, keys: ApiKeys, new_key: Callable[[], str] = new_key_text) -> None:
        self._keys = keys
        self._new_key = new_key

    def configured(self) -> bool:
        return bool(self._keys.all())

    def identify(self, key: str | None) -> Caller:
        """The caller holding `key`; anonymous without one; Unauthorized for an unknown key."""
        if key is None:
            return ANONYMOUS
        return self.holder(key_digest(key))

    def holder(self, digest: str) -> Caller:
        """The caller whose key has the SHA-256 `digest` (what a signed-in page keeps);
        Unauthorized when no such key is configured (any more)."""
        found: StoredKey | None = None
        # Every stored digest is compared, in constant time, whatever matched before.
        for stored in self._keys.all():
            if hmac.compare_digest(stored.digest, digest):
                found = stored
        if found is None:
            raise Unauthorized("the API key is not valid")
        return Caller(f"key:{found.digest}", found.scopes, authenticated=True)

    def authorize(self, caller: Caller, scope: Scope, always: bool = True) -> None:
        """Raise unless `caller` holds `scope`; `always=False` admits anyone while no key is set."""
        if caller.authenticated:
            if not caller.may(scope):
                raise Forbidden(f"this API key lacks the scope {scope}", scope=scope)
            return
        if self.configured():
            raise Unauthorized(f"this needs an API key with the scope {scope}")
        if always:
            raise Unauthorized(
                f"this needs an API key with the scope {scope}, and none is configured: "
                f"create one with `logistic keys create --scope {scope}`"
            )

    def create_key(self, scopes: Iterable[Scope]) -> str:
        """A new key with `scopes`; only its digest is stored, so the text is shown once."""
        wanted = frozenset(scopes)
        if not wanted:
            raise InvalidInput("a key needs at least one scope (--scope)")
        key = self._new_key()
        self._keys.add(StoredKey(key_digest(key), wanted))
        return key
