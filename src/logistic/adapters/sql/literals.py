"""SQL string literals written without the driver's escape, for the text the bulk insert
makes itself (statuses, timestamps): only characters that mean themselves between single
quotes in every SQL mode. Free text goes through the driver's own escape (`driver_quote`),
and the rows go out in multi-row statements of bounded size (`execute_literals`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Connection

from logistic.domain.status import Status

SAFE_TEXT = re.compile(r"[0-9A-Za-z _:.-]*")
# PyMySQL's own bound for a multi-row INSERT, in characters here: at most 4 MB of
# UTF-8, under every server's default max_allowed_packet.
MAX_STATEMENT = 1_024_000

Quote = Callable[[str | None], str]


def trusted_literal(text: str) -> str:
    """`text` between single quotes, or ValueError unless all of it is SAFE_TEXT."""
    if not SAFE_TEXT.fullmatch(text):
        raise ValueError(f"not safe as a literal without escaping: {text!r}")
    return f"'{text}'"


# Every status as a literal, checked once.
STATUS_LITERALS = {status: trusted_literal(status.value) for status in Status}


def driver_quote(connection: Connection) -> Quote | None:
    """Text (or None) as an SQL literal, by the driver's own quoting, the one its
    executemany uses (both follow the server's NO_BACKSLASH_ESCAPES mode); None for
    drivers whose rows are bound instead (SQLite's)."""
    escape = _driver_escape(connection)
    if escape is None:
        return None

    def quote(value: str | None) -> str:
        if value is None:
            return "NULL"
        if type(value) is not str:
            # Only text is quoted here: anything else in a text column is a mistake.
            raise TypeError(f"not text: {value!r}")
        return escape(value)

    return quote


def _driver_escape(connection: Connection) -> Callable[[str], str] | None:
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    driver = connection.dialect.driver
    if driver == "pymysql":
        return lambda text: str(dbapi.escape(text))
    if driver == "mysqldb":
        # Its escape works on bytes, which must be in the connection's character set
        # (the statement is sent in it): in a multi-byte set such as gbk, UTF-8 bytes
        # can hide a quote's backslash inside a character.
        encoding = dbapi.encoding
        return lambda text: bytes(dbapi.string_literal(text.encode(encoding))).decode(encoding)
    return None


def execute_literals(
    connection: Connection, head: str, rows: Sequence[str], tail: str = ""
) -> None:
    """`head` + rows joined by commas + `tail`, in as many statements as it takes to keep
    each under MAX_STATEMENT characters (all in the caller's transaction)."""
    if not rows:
        return
    # No parameters: the driver sends the text as it is (a % in the data stays a %).
    execute = connection.execution_options(no_parameters=True).exec_driver_sql
    values: list[str] = []
    size = len(head) + len(tail)
    for row in rows:
        if values and size + len(row) + 1 > MAX_STATEMENT:
            execute(head + ",".join(values) + tail)
            values, size = [], len(head) + len(tail)
        values.append(row)
        size += len(row) + 1
    execute(head + ",".join(values) + tail)
