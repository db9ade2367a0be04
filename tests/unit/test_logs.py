"""Log lines: one JSON object each (an error's trace inside it), or text; the request id."""

from __future__ import annotations

import json
import logging
import sys

from logistic.entrypoints.logs import RequestIdFilter, formatter, request_id


def _record(message: str, exc_info: bool = False) -> logging.LogRecord:
    error = None
    if exc_info:
        try:
            raise ValueError("the cause")
        except ValueError:
            error = sys.exc_info()
    record = logging.LogRecord("logistic.test", logging.ERROR, __file__, 1, message, (), error)
    RequestIdFilter().filter(record)
    return record


def test_an_error_and_its_trace_are_one_json_line_with_the_request_id() -> None:
    token = request_id.set("trace-9")
    try:
        line = formatter("json").format(_record("it broke: badly", exc_info=True))
    finally:
        request_id.reset(token)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "logistic.test"
    assert entry["message"] == "it broke: badly"
    assert entry["request_id"] == "trace-9"
    assert "time" in entry
    assert "ValueError: the cause" in entry["exc_info"]
    assert "Traceback" in entry["exc_info"]


def test_outside_a_request_the_id_is_a_dash_and_text_lines_show_it() -> None:
    line = formatter("text").format(_record("plain"))

    assert line.endswith("ERROR logistic.test [-]: plain")
