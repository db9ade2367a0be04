"""Writing transactions run again, whole, when the database gave them up (error 1213).

InnoDB rolls a transaction back to break a deadlock; a Galera node does the same at
COMMIT when a transaction of another node changed the same rows first (certification
failure), or earlier when applying such a transaction aborts a local one. Each
arrives as error 1213 and nothing of the transaction stays, so running the work
again is safe: it reads what won and decides again (an event whose expected count
no longer holds becomes ConcurrentUpdate, as without a cluster).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from logistic.adapters.sql.engine import writer
from logistic.adapters.sql.errors import deadlocked

T = TypeVar("T")

log = logging.getLogger(__name__)

# Eight writers on the same rows (the sequences) through two Galera nodes needed up
# to about half as many (see docs/operations.md); the pause, random and growing up to
# a cap, keeps them from meeting again at once.
WRITE_ATTEMPTS = 20
_FIRST_PAUSE_S = 0.004
_LONGEST_PAUSE_S = 0.25


def in_transaction(
    engine: Engine, work: Callable[[Connection], T], retried: Callable[[], object] | None = None
) -> T:
    """`work` in a writing transaction on `engine`, committed; run again, up to
    WRITE_ATTEMPTS times in all, when the database rolled it back whole (1213).
    Every other error, and the last 1213, is raised as the driver raised it."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            with writer(engine).begin() as connection:
                return work(connection)
        except OperationalError as error:
            if not deadlocked(error) or attempt == WRITE_ATTEMPTS:
                raise
            log.info("transaction rolled back by the database (1213), attempt %d", attempt)
            if retried is not None:
                retried()  # counted (the metrics' deadlock retries)
        time.sleep(random.uniform(0, min(_LONGEST_PAUSE_S, _FIRST_PAUSE_S * 2**attempt)))
    raise AssertionError("unreachable")
