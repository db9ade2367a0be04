"""The project's exceptions; the HTTP layer maps each to one status code."""

from __future__ import annotations


class DomainError(Exception):
    """Root of every error this project raises on purpose."""


class InvalidInput(DomainError):
    """A caller sent a value that can never be valid (a malformed sno, num, slot...)."""


class ShipmentNotFound(DomainError):
    def __init__(self, sno: int) -> None:
        super().__init__(f"no shipment with sno {sno}")
        self.sno = sno


class LocationNotFound(DomainError):
    def __init__(self, location_id: int) -> None:
        super().__init__(f"no logistics center with id {location_id}")
        self.location_id = location_id


class TransitionRefused(DomainError):
    """An event that the lifecycle does not allow after the shipment's history."""

    def __init__(self, message: str, current: str | None, allowed: tuple[str, ...]) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class ConcurrentUpdate(DomainError):
    """Another writer changed the shipment between our read and our write."""


class StorageUnavailable(DomainError):
    """A back end (database, cache, object store) could not be reached or failed."""


class CacheUnavailable(StorageUnavailable):
    """The cache did not answer in time or failed."""


class CacheBypassed(CacheUnavailable):
    """The cache was not asked: it failed lately and is left alone a few seconds.

    Its failure was logged once already; callers need not log each bypass.
    """


class ObjectStoreError(StorageUnavailable):
    """The object store refused or failed an operation."""


class ObjectStoreUnreachable(ObjectStoreError):
    """The object store did not answer (down, hung, or no route): it may answer later."""


class ReportNotFound(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no report at {key}")
        self.key = key


class Unauthorized(DomainError):
    """No API key, a malformed one, or one that is not configured."""


class Forbidden(DomainError):
    """A valid API key that lacks the scope a route needs."""

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message)
        self.scope = scope


class RateLimited(DomainError):
    """A client sent more requests than its quota for the current window."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"rate limit of {limit} requests reached; retry in {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


class IdempotencyConflict(DomainError):
    """A request with the same Idempotency-Key is still being processed."""


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key sent again with a different request."""


class WebhookNotFound(DomainError):
    def __init__(self, subscription_id: str) -> None:
        super().__init__(f"no webhook subscription with id {subscription_id}")


class WebhookMessageNotFound(DomainError):
    def __init__(self, message_id: str) -> None:
        super().__init__(f"no message {message_id} of this subscription in the last 7 days")
