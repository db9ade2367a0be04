"""Driver failures become the project's StorageUnavailable, at one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from logistic.domain.errors import StorageUnavailable


@contextmanager
def storage_errors(what: str = "the database") -> Iterator[None]:
    """Raise StorageUnavailable("<what> failed (<driver error>)") from any driver error."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as error:
        cause = getattr(error, "orig", None) or error
        raise StorageUnavailable(f"{what} failed ({type(cause).__name__})") from error


# MariaDB's and MySQL's error number for a transaction chosen to break a deadlock.
ER_LOCK_DEADLOCK = 1213


def deadlocked(error: OperationalError) -> bool:
    """Whether the database rolled the whole transaction back to break a deadlock (both
    drivers' errors carry the server's error number first)."""
    args: tuple[object, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] == ER_LOCK_DEADLOCK
