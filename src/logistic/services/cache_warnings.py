"""How loudly a failed cache or rate-limiter call is logged."""

from __future__ import annotations

import logging

from logistic.domain.errors import CacheBypassed


def warning_level(error: Exception) -> int:
    """WARNING, but DEBUG for a bypass: the breaker logged its opening once already,
    and a line per request while Redis is away would flood the log."""
    return logging.DEBUG if isinstance(error, CacheBypassed) else logging.WARNING
