"""The Cache port on Redis (a single server, TLS, or a Redis Cluster)."""

from __future__ import annotations

import math
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeAlias, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from logistic.domain.errors import CacheUnavailable

HEALTH_CHECK_INTERVAL_SECONDS = 30
# While no cluster node answers, a caller fails at once instead of waiting for a timeout.
CLUSTER_RETRY_SECONDS = 1.0
# A kept connection idle this long is checked before use (DirectCommands).
READY_CHECK_SECONDS = 1.0
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
# RedisClusterException is not a RedisError: redis-py raises it when no node answers.
_DRIVER_ERRORS = (redis.RedisError, RedisClusterException)


class DirectCommands:
    """Commands sent on connections of `client`'s pool, kept for this, without redis-py's
    command layer.

    For the commands of /query: a hit's script, a miss's store. Around each command
    redis-py 8 spends about 25 µs of CPU (an observability hook, retry closures, a
    pool checkout with its locks), measured against 17 µs for the command itself: a
    third of a cache hit's CPU. Here a connection is taken from a deque of idle ones,
    used, and put back; a new one is taken from the pool when all are busy, so there
    are as many as commands ever ran at once (at most the threads of a process). They
    stay checked out of the pool: closing the client closes them too, and they count
    against a `max_connections` set in the URL. They reconnect when next used, and a
    forked child starts with none.

    A command is packed by hiredis itself (redis-py's packer around it cost 5 µs a
    command). A connection idle for READY_CHECK_SECONDS or more is first made ready
    as the pool would (connected, nothing unread, not marked by redis-py for a
    reconnect: what a Redis restart or its idle timeout leaves), which costs a system
    call and 4 µs; one used more recently goes straight to its command (unless redis-py
    marked it for a reconnect), so a Redis restart fails one command on each connection
    used within the second before it (the caller falls back, as for any failed
    command), and the next reconnects. Arguments are str, int or bytes; anything else
    raises DataError before a connection is taken.

    Errors are redis-py's own; as with `redis_client`'s clients, a failed command is
    not retried. A connection whose command failed other than by the server's error
    reply is disconnected, so no caller ever reads another's reply.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
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
            if time.monotonic() - since >= READY_CHECK_SECONDS:
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

    def _forget(self) -> None:
        # In a forked child: the parent's sockets are not its to use.
        self._idle = deque()


# Every DirectCommands of this process, so that a forked child forgets its parent's
# connections (only the forking thread lives on in the child: no lock needed). The hook
# runs for forks made through CPython (os.fork, multiprocessing, granian's workers),
# which are the only ones that go on to run Python code.
_LIVE: weakref.WeakSet[DirectCommands] = weakref.WeakSet()


def _forget_in_child() -> None:
    for direct in list(_LIVE):
        direct._forget()


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


class RedisCache:
    """Keys live under `prefix`; every driver failure becomes CacheUnavailable.

    On a single server the commands go out through DirectCommands (a cache miss
    stores its body here); a cluster's client routes them by key.
    """

    def __init__(self, client: RedisLike, prefix: str = "logistic:") -> None:
        self._client = client
        self._prefix = prefix
        self._direct = direct_commands(client) if isinstance(client, redis.Redis) else None

    def get(self, key: str) -> bytes | None:
        name = self._prefix + key
        with _unavailable_on_error("get"):
            if self._direct is None:
                value = self._client.get(name)
            else:
                value = self._direct.execute("GET", name)
        if isinstance(value, str):  # a client built with decode_responses=True
            return value.encode()
        return cast(bytes | None, value)

    def set(self, key: str, value: bytes, ttl: timedelta) -> None:
        name = self._prefix + key
        with _unavailable_on_error("set"):
            if ttl <= timedelta(0):
                # Already expired: Redis refuses PX 0, so drop any previous value instead.
                self._delete([name])
                return
            milliseconds = max(1, math.ceil(ttl / timedelta(milliseconds=1)))
            if self._direct is None:
                self._client.set(name, value, px=milliseconds)
            else:
                self._direct.execute("SET", name, value, "PX", milliseconds)

    def delete(self, *keys: str) -> None:
        if not keys:
            return
        with _unavailable_on_error("delete"):
            self._delete([self._prefix + key for key in keys])

    def _delete(self, names: list[str]) -> None:
        if self._direct is None:
            # A cluster's client splits the keys by slot.
            self._client.delete(*names)
        else:
            self._direct.execute("DEL", *names)


@contextmanager
def _unavailable_on_error(operation: str) -> Iterator[None]:
    try:
        yield
    except _DRIVER_ERRORS as error:
        raise CacheUnavailable(f"redis cache {operation} failed: {error}") from error


class LazyRedisCluster:
    """A RedisCluster built on first use instead of at start.

    redis-py's RedisCluster loads the slot map in its constructor, so a process
    started while the cluster is down could not start at all. Through this class
    every use builds the client until a node answers (failing at once, with the
    last error, for `retry_seconds` after a failed attempt); then every attribute
    is the built client's. Driver errors pass through for the adapters to translate.
    """

    def __init__(
        self,
        build: Callable[[], RedisCluster],
        retry_seconds: float = CLUSTER_RETRY_SECONDS,
    ) -> None:
        self._build = build
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._client: RedisCluster | None = None
        self._failure: tuple[float, RedisClusterException | redis.RedisError] | None = None

    def register_script(self, script: str) -> Script:
        # Given bytes, Script needs no encoder from the client, so registering connects
        # nothing; running it calls evalsha and script_load, which reach the cluster.
        return Script(cast(RedisCluster, self), script.encode())

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._cluster(), name)

    def _cluster(self) -> RedisCluster:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is not None:
                return self._client
            if self._failure is not None:
                failed_at, error = self._failure
                if time.monotonic() - failed_at < self._retry_seconds:
                    raise RedisClusterException(f"no cluster node answered lately: {error}")
            try:
                self._client = self._build()
            except _DRIVER_ERRORS as error:
                self._failure = (time.monotonic(), error)
                raise
            self._failure = None
            return self._client


RedisLike: TypeAlias = redis.Redis | RedisCluster | LazyRedisCluster


def redis_client(url: str, timeout_seconds: float = 0.05) -> RedisLike:
    """A client for `url` that gives up quickly, so a slow Redis never slows an answer.

    Nothing connects here. `redis://` and `rediss://` (TLS) give a `redis.Redis`.
    `redis+cluster://`, `rediss+cluster://` or the query parameter `cluster=true` give a
    LazyRedisCluster: its first use loads the cluster's slot map, and while no node
    answers every call raises (CacheUnavailable from RedisCache), so a process that
    starts during a cluster outage serves from the database and uses the cluster once
    it is back. Failed commands are not retried: a call gives up after one connect and
    one read timeout at most, and the caller falls back to the database.
    """
    plain_url, cluster = _cluster_mode(url)
    options = {
        "socket_connect_timeout": timeout_seconds,
        "socket_timeout": timeout_seconds,
        "health_check_interval": HEALTH_CHECK_INTERVAL_SECONDS,
        "retry": Retry(NoBackoff(), retries=0),
    }
    if not cluster:
        return redis.Redis.from_url(plain_url, **options)
    return LazyRedisCluster(lambda: RedisCluster.from_url(plain_url, **options))


def _cluster_mode(url: str) -> tuple[str, bool]:
    """The URL redis-py understands, and whether it names a cluster."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flags = [value for name, value in query if name == "cluster"]
    kept = urlencode([(name, value) for name, value in query if name != "cluster"])
    scheme = _CLUSTER_SCHEMES.get(parts.scheme, parts.scheme)
    cluster = parts.scheme in _CLUSTER_SCHEMES or any(
        flag.lower() in {"true", "1", "yes"} for flag in flags
    )
    return urlunsplit(parts._replace(scheme=scheme, query=kept)), cluster
