"""The processes' log lines: one JSON object each (LOGISTIC_LOG_FORMAT=text: plain lines).

Every line written while a request is answered carries its request id (taken from
`X-Request-ID` or made up, see request_meter.py), so one request can be followed
through the logs; an error's traceback stays inside its one JSON line.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

# The id of the request this thread is answering; None outside a request.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

_JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
_TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "text":
        return logging.Formatter(_TEXT)
    return JsonFormatter(
        list(_JSON_FIELDS),
        rename_fields=_RENAMED,
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        json_ensure_ascii=False,
    )


def configure(level: str, log_format: str) -> None:
    """The root logger writes `log_format` lines to stderr at `level` (once per process:
    server workers inherit it when they fork)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
