"""Time, always timezone-aware: the system clock in production, fixed or travelling in tests."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, always timezone-aware."""
        ...
