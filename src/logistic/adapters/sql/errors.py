"""Driver failures become the project's StorageUnavailable, at one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError
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
