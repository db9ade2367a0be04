"""DirectCommands: the cache-hit path's commands on connections kept for them."""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from logistic.adapters.redis_cache import RedisCache
from logistic.adapters.redis_client import redis_client
from logistic.adapters.redis_commands import DirectCommands
from logistic.adapters.redis_counted_cache import RedisCountedCache
from logistic.ports.rate_limiter import Window

pytestmark = pytest.mark.redis


class Recorded(redis.Connection):
    """A connection the test can reach (each one made is listed in `made`), whose next
    read it can interrupt."""

    made: ClassVar[list[Recorded]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.interrupt_next_read = False
        Recorded.made.append(self)

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        if self.interrupt_next_read:
            self.interrupt_next_read = False
            raise KeyboardInterrupt  # Ctrl-C after the command went out
        return super().read_response(*args, **kwargs)


def recording_client(url: str) -> redis.Redis:
    """A client on Recorded connections, that fails fast as `redis_client`'s do."""
    return redis.Redis.from_url(
        url,
        connection_class=Recorded,
        socket_connect_timeout=1,
        socket_timeout=1,
        retry=Retry(NoBackoff(), retries=0),
    )


@pytest.fixture
def recorded() -> Iterator[list[Recorded]]:
    Recorded.made.clear()
    yield Recorded.made
    Recorded.made.clear()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    made = redis_client(redis_url, timeout_seconds=1)
    assert isinstance(made, redis.Redis)
    yield made
    made.close()


@pytest.fixture
def other(redis_url: str) -> Iterator[redis.Redis]:
    made = redis.Redis.from_url(redis_url, socket_timeout=1)
    yield made
    made.close()


def connection_id(direct: DirectCommands) -> int:
    return int(direct.execute("CLIENT", "ID"))


def assert_replaced(direct: DirectCommands, first: int) -> None:
    """The next command goes out on a new connection, which is then kept."""
    second = connection_id(direct)
    assert second != first
    assert connection_id(direct) == second


def open_ids(other: redis.Redis) -> set[int]:
    return {int(entry["id"]) for entry in other.client_list()}


def test_one_caller_at_a_time_uses_one_connection(client: redis.Redis) -> None:
    direct = DirectCommands(client)
    assert len({connection_id(direct) for _ in range(20)}) == 1


def test_there_are_as_many_connections_as_commands_ran_at_once(
    redis_url: str, other: redis.Redis, redis_prefix: str
) -> None:
    name = f"direct-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url, socket_timeout=2, client_name=name)
    direct = DirectCommands(client)

    def named() -> int:
        return sum(1 for entry in other.client_list() if entry.get("name") == name)

    def at_once(command: tuple[str, ...], times: int) -> None:
        start = threading.Barrier(4)

        def work() -> None:
            start.wait()
            for _ in range(times):
                direct.execute(*command)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        # Four commands that each wait 0.3 s, sent together: four connections.
        at_once(("BLPOP", f"{redis_prefix}direct:nothing", "0.3"), 1)
        assert named() == 4
        at_once(("PING",), 200)
        assert named() == 4  # reused, none added
    finally:
        client.close()


def test_the_adapters_on_one_client_share_its_kept_connection(
    redis_url: str, other: redis.Redis, redis_prefix: str
) -> None:
    name = f"shared-{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url, socket_timeout=2, client_name=name)
    cache = RedisCache(client, prefix=redis_prefix)
    counted = RedisCountedCache(client, prefix=redis_prefix)
    window = Window.containing(datetime.now(UTC), timedelta(minutes=1))
    try:
        for _ in range(20):
            cache.set("shared", b"body", timedelta(seconds=30))
            assert counted.hit_and_get("caller", window, ["shared"])[1] == [b"body"]
            assert cache.get("shared") == b"body"
        # A /query hit's script and a miss's store, one after the other: one connection.
        assert sum(1 for entry in other.client_list() if entry.get("name") == name) == 1
    finally:
        client.close()


def test_the_shared_registry_keeps_no_client_alive(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    RedisCache(client).set("alive", b"1", timedelta(seconds=5))
    gone = weakref.ref(client)
    client.close()
    del client
    gc.collect()
    assert gone() is None


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(
    client: redis.Redis, other: redis.Redis
) -> None:
    direct = DirectCommands(client, ready_check_seconds=0.2)
    first = connection_id(direct)
    other.client_kill_filter(_id=first)  # as a Redis restart or an idle timeout would
    time.sleep(0.3)  # idle past the check's interval

    assert_replaced(direct, first)  # no command fails


def test_a_connection_the_server_closed_while_busy_fails_one_command_and_reconnects(
    client: redis.Redis, other: redis.Redis
) -> None:
    direct = DirectCommands(client, ready_check_seconds=60.0)
    first = connection_id(direct)
    other.client_kill_filter(_id=first)  # a restart under load: used a moment ago

    with pytest.raises(redis.ConnectionError):
        direct.execute("PING")
    assert_replaced(direct, first)


def test_a_connection_redis_py_marked_for_a_reconnect_is_replaced_at_its_next_command(
    redis_url: str, recorded: list[Recorded]
) -> None:
    client = recording_client(redis_url)
    direct = DirectCommands(client, ready_check_seconds=60.0)  # used a moment ago
    try:
        first = connection_id(direct)
        (kept,) = recorded
        kept.mark_for_reconnect()  # as after a server's maintenance notice

        assert_replaced(direct, first)
    finally:
        client.close()


def test_a_command_interrupted_before_its_reply_leaves_nothing_for_the_next_caller(
    redis_url: str, recorded: list[Recorded]
) -> None:
    client = recording_client(redis_url)
    direct = DirectCommands(client, ready_check_seconds=60.0)
    try:
        direct.execute("PING")
        (kept,) = recorded
        kept.interrupt_next_read = True

        with pytest.raises(KeyboardInterrupt):
            direct.execute("ECHO", "first")
        assert direct.execute("ECHO", "second") == b"second"
    finally:
        client.close()


def test_an_argument_of_another_type_is_a_data_error_and_nothing_is_sent(
    client: redis.Redis,
) -> None:
    direct = DirectCommands(client)
    first = connection_id(direct)
    with pytest.raises(redis.DataError):
        direct.execute("ECHO", None)  # type: ignore[arg-type]
    assert connection_id(direct) == first  # the connection was not dropped


def test_closing_the_client_closes_them_and_they_reconnect_when_used(
    client: redis.Redis, other: redis.Redis
) -> None:
    direct = DirectCommands(client)
    first = connection_id(direct)
    assert first in open_ids(other)

    client.close()
    deadline = time.monotonic() + 5
    while first in open_ids(other) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server handles the close a moment later
    assert first not in open_ids(other)
    assert connection_id(direct) != first


def test_a_forked_child_uses_its_own_connection_and_leaves_the_parents_alone(
    client: redis.Redis,
) -> None:
    direct = DirectCommands(client)
    parent = connection_id(direct)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.write(write, str(connection_id(direct)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        ready, _, _ = select.select([pipe], [], [], 10)
        child = int(pipe.read() or 0) if ready else 0
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

    assert child not in {0, parent}
    assert connection_id(direct) == parent


def test_errors_are_redis_pys_and_a_failed_command_is_not_retried(
    client: redis.Redis, redis_prefix: str
) -> None:
    direct = DirectCommands(client)
    key = f"{redis_prefix}direct:list"
    direct.execute("RPUSH", key, "a")
    with pytest.raises(redis.ResponseError):
        direct.execute("INCR", key)  # wrong type: the server's error, the connection is fine
    assert direct.execute("LLEN", key) == 1


class Gate:
    """A TCP relay to Redis that can be shut, as a Redis outage looks to its clients."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def shut(self) -> None:
        """Every connection is cut, and new ones are refused."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() below
        self._listener.close()
        self._accepting.join()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def open(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [downstream, upstream]
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=_relay, args=(source, target), daemon=True).start()


def _relay(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_through_an_outage_every_command_fails_and_after_it_they_work_again(
    redis_url: str, recorded: list[Recorded]
) -> None:
    address = redis.Redis.from_url(redis_url).connection_pool.connection_kwargs
    gate = Gate((address.get("host", "127.0.0.1"), int(address.get("port", 6379))))
    db = address.get("db", 0)
    gated = recording_client(f"redis://127.0.0.1:{gate.port}/{db}")
    direct = DirectCommands(gated)
    try:
        assert direct.execute("PING") == b"PONG"
        gate.shut()
        for _ in range(5):
            with pytest.raises(redis.ConnectionError):
                direct.execute("PING")
        gate.open()
        assert direct.execute("ECHO", "back") == b"back"
        assert direct.execute("ECHO", "again") == b"again"
        # The one connection came back each time: the pool never had to make another.
        assert len(recorded) == 1
    finally:
        gated.close()
        gate.shut()
