"""Commands on connections kept checked out of a redis-py pool: the cache-hit path's speed trick.

It stays because it beats redis-py's own command path by more than the noise band on
the hits it exists for: docs/performance.md, "Speed tricks and what they buy".
"""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections import deque
from typing import Any

import hiredis
import redis

# A kept connection idle this long is checked before use, as the pool checks at checkout.
READY_CHECK_SECONDS = 1.0


class DirectCommands:
    """Commands sent on connections of `client`'s pool, kept for this, without redis-py's
    command layer.

    For the commands of /query: a hit's script, a miss's store. redis-py's command
    layer and pool checkout cost a cache hit more CPU than the command itself, so these
    commands skip them (docs/performance.md has the measurement). A connection is taken
    from a deque of idle ones, used, and put back; a new one is taken from the pool when
    all are busy, so there are as many as commands ever ran at once (at most the threads
    of a process). They stay checked out of the pool: closing the client closes them
    too, and they count against a `max_connections` set in the URL. They reconnect when
    next used, and a forked child starts with none.

    A command is packed by hiredis itself. A connection idle for `ready_check_seconds`
    or more is first made ready as the pool would (connected, nothing unread, not
    marked by redis-py for a reconnect: what a Redis restart or its idle timeout
    leaves); one used more recently goes straight to its command (unless redis-py
    marked it for a reconnect), so a Redis restart fails one command on each connection
    used within that time before it (the caller falls back, as for any failed command),
    and the next reconnects. Arguments are str, int or bytes; anything else raises
    DataError before a connection is taken.

    Errors are redis-py's own; as with `redis_client`'s clients, a failed command is
    not retried. A connection whose command failed other than by the server's error
    reply is disconnected, so no caller ever reads another's reply.
    """

    def __init__(
        self, client: redis.Redis, ready_check_seconds: float = READY_CHECK_SECONDS
    ) -> None:
        self._pool = client.connection_pool
        self._ready_check_seconds = ready_check_seconds
        # redis-py's connections (untyped there) of the pool's connection class, each
        # with the monotonic time it was last put back.
        self._idle: deque[tuple[Any, float]] = deque()
        _LIVE.add(self)

    def execute(self, *args: str | int | bytes) -> Any:
        try:
            # hiredis's stub types its argument as a tuple of one.
            packed = hiredis.pack_command(args)  # type: ignore[arg-type]
        except TypeError as error:  # an argument of another type, as redis-py's packer says
            raise redis.DataError(error) from error
        try:
            connection, since = self._idle.pop()
        except IndexError:
            connection, since = self._pool.get_connection(), -math.inf  # made ready below
        try:
            if time.monotonic() - since >= self._ready_check_seconds:
                _make_ready(connection)
            elif _marked(connection):
                connection.disconnect()  # reconnected by the send, as redis-py asks
            connection.send_packed_command([packed])  # connects a disconnected one
            return connection.read_response()
        except redis.ResponseError:
            raise  # the server's answer, read whole: the connection is fine
        except BaseException:
            # Interrupted between sending and reading, the reply would wait for the
            # next caller; redis-py disconnects on socket errors, this covers the rest.
            connection.disconnect()
            raise
        finally:
            self._idle.append((connection, time.monotonic()))

    def forget_connections(self) -> None:
        """Drops the kept connections without closing them: in a forked child, the
        parent's sockets are not its to use."""
        self._idle = deque()


# Every DirectCommands of this process, so that a forked child forgets its parent's
# connections (only the forking thread lives on in the child: no lock needed). The hook
# runs for forks made through CPython (os.fork, multiprocessing, granian's workers),
# which are the only ones that go on to run Python code.
_LIVE: weakref.WeakSet[DirectCommands] = weakref.WeakSet()


def _forget_in_child() -> None:
    for direct in list(_LIVE):
        direct.forget_connections()


os.register_at_fork(after_in_child=_forget_in_child)

_SHARED: weakref.WeakKeyDictionary[redis.Redis, DirectCommands] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def direct_commands(client: redis.Redis) -> DirectCommands:
    """`client`'s one DirectCommands: the adapters on one client share its connections,
    so a worker thread keeps at most one for them all. Held by weak reference: the
    registry keeps no client alive (a DirectCommands holds the pool, not the client).
    Two clients on one pool get one each."""
    with _SHARED_LOCK:
        direct = _SHARED.get(client)
        if direct is None:
            direct = _SHARED[client] = DirectCommands(client)
        return direct


def _marked(connection: Any) -> bool:
    """Whether redis-py marked the connection for a reconnect (after a server's
    maintenance notice, redis-py 6 and later)."""
    should_reconnect = getattr(connection, "should_reconnect", None)
    return should_reconnect is not None and bool(should_reconnect())


def _make_ready(connection: Any) -> None:
    """Connected, with nothing unread, as redis-py's pool checks at checkout."""
    if _marked(connection):
        connection.disconnect()
    connection.connect()  # no-op while connected
    try:
        stale = connection.can_read()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        stale = True
    if stale:
        # A reply left unread, a push message, or the server closed it (a restart):
        # start afresh.
        connection.disconnect()
        connection.connect()
