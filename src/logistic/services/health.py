from __future__ import annotations

from collections.abc import Callable, Mapping

from logistic.domain.errors import DomainError


class Readiness:
    """Runs each named check; a check raises a DomainError when its back end is not usable."""

    def __init__(self, checks: Mapping[str, Callable[[], object]]) -> None:
        self._checks = checks

    def report(self) -> tuple[bool, dict[str, str]]:
        detail: dict[str, str] = {}
        for name, check in self._checks.items():
            try:
                check()
                detail[name] = "ok"
            except DomainError as error:
                detail[name] = f"unavailable: {error}"
        return all(value == "ok" for value in detail.values()), detail
