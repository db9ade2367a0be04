"""Readiness: every back end checked at once, answered within a deadline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait

from logistic.domain.errors import DomainError

# /readyz answers within this, whatever its back ends do (a probe's timeout is often 2 s).
READINESS_DEADLINE_S = 1.5


class Readiness:
    """Runs the named checks at once; a check raises a DomainError when its back end is not usable.

    A report waits at most `deadline_s`: a check still running then is reported
    unavailable, and is not started again until it ends, so a hung back end holds one
    thread per check however often readiness is asked.
    """

    def __init__(
        self,
        checks: Mapping[str, Callable[[], object]],
        deadline_s: float = READINESS_DEADLINE_S,
    ) -> None:
        self._checks = checks
        self._deadline_s = deadline_s
        self._lock = threading.Lock()
        self._running: dict[str, Future[str]] = {}
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, len(checks)), thread_name_prefix="readiness"
        )

    def report(self) -> tuple[bool, dict[str, str]]:
        with self._lock:
            for name, check in self._checks.items():
                if name not in self._running or self._running[name].done():
                    self._running[name] = self._pool.submit(_outcome, check)
            futures = dict(self._running)
        wait(futures.values(), timeout=self._deadline_s)
        detail = {
            name: (
                future.result()
                if future.done()
                else f"unavailable: no answer within {self._deadline_s:g} s"
            )
            for name, future in futures.items()
        }
        return all(value == "ok" for value in detail.values()), detail


def _outcome(check: Callable[[], object]) -> str:
    try:
        check()
    except DomainError as error:
        return f"unavailable: {error}"
    return "ok"
