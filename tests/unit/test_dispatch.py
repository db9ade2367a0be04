"""The dispatcher with the outbox and the sender in memory: signing, order, the endpoint limit."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from logistic.adapters.clock import FixedClock, SystemClock
from logistic.adapters.memory_webhooks import (
    MemoryResolver,
    MemoryWebhookOutbox,
    MemoryWebhookSender,
    MemoryWebhookSubscriptions,
)
from logistic.domain.errors import StorageUnavailable
from logistic.domain.retry_schedule import RetrySchedule
from logistic.domain.webhook import Attempt, Delivery, MessageStatus, NewMessage, Subscription
from logistic.ports.webhook_outbox import Outcome
from logistic.services import dispatch
from logistic.services.dispatch import Dispatcher, DispatchSettings
from logistic.services.metering import WEBHOOK_BACKLOG_AGE, WEBHOOK_DELIVERIES, Meter
from logistic.services.webhooks import new_secret

SCHEDULE = RetrySchedule((0, 0.05, 0.05))


def _outbox(*names: str) -> tuple[MemoryWebhookSubscriptions, MemoryWebhookOutbox]:
    subscriptions = MemoryWebhookSubscriptions()
    for name in names:
        subscriptions.add(
            Subscription(
                name, f"https://{name}.example.com/", (), "", True, new_secret(), datetime.now(UTC)
            )
        )
    return subscriptions, MemoryWebhookOutbox(subscriptions)


def _messages(subscription: str, snos: list[int]) -> list[NewMessage]:
    now = datetime.now(UTC)
    return [
        NewMessage(subscription, sno, "t", json.dumps({"n": n, "sno": sno}).encode(), now)
        for n, sno in enumerate(snos)
    ]


@contextmanager
def _running(dispatcher: Dispatcher) -> Iterator[None]:
    thread = threading.Thread(target=dispatcher.run)
    thread.start()
    try:
        yield
    finally:
        dispatcher.stop()
        thread.join(10)


def _wait(condition: object, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_every_message_arrives_signed_and_in_order_per_shipment() -> None:
    subscriptions, outbox = _outbox("ep_a")
    outbox.add(_messages("ep_a", [1, 2, 1, 3, 1, 2]))
    fails = Counter[str]()

    def answer(url: str) -> int | None:
        fails["all"] += 1
        return 500 if fails["all"] % 3 == 0 else 200

    sender = MemoryWebhookSender(SystemClock().now, answer)
    settings = DispatchSettings(workers=4, per_endpoint=4, schedule=SCHEDULE)
    dispatcher = Dispatcher(outbox, sender, SystemClock(), settings)
    since = datetime.now(UTC) - timedelta(days=1)
    with _running(dispatcher):
        _wait(
            lambda: (
                len(outbox.messages("ep_a", since, MessageStatus.DELIVERED))
                + len(outbox.messages("ep_a", since, MessageStatus.DEAD))
                == 6
            )
        )
    secret = subscriptions.get("ep_a").secret  # type: ignore[union-attr]
    firsts: dict[str, int] = {}
    for index, (_, headers, body) in enumerate(sender.sent):
        Webhook(secret).verify(body, headers)
        firsts.setdefault(headers["webhook-id"], index)
    order = sorted(firsts, key=firsts.__getitem__)
    bodies = {headers["webhook-id"]: json.loads(body) for _, headers, body in sender.sent}
    for sno in (1, 2):
        ns = [bodies[webhook_id]["n"] for webhook_id in order if bodies[webhook_id]["sno"] == sno]
        assert ns == sorted(ns)


class SlowEndpoint:
    """Holds every post to `slow` until released, counting how many wait at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.waiting = 0
        self.most = 0
        self.fast = 0

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        if "slow" in url:
            with self.lock:
                self.waiting += 1
                self.most = max(self.most, self.waiting)
            self.release.wait(10)
            with self.lock:
                self.waiting -= 1
        else:
            with self.lock:
                self.fast += 1
        return Attempt(datetime.now(UTC), 200, 1, "")


def test_a_slow_endpoint_holds_its_share_of_workers_only() -> None:
    _, outbox = _outbox("ep_slow", "ep_fast")
    outbox.add(_messages("ep_slow", list(range(1, 40))))
    outbox.add(_messages("ep_fast", list(range(1, 40))))
    sender = SlowEndpoint()
    settings = DispatchSettings(workers=6, per_endpoint=2, schedule=SCHEDULE)
    with _running(Dispatcher(outbox, sender, SystemClock(), settings)):
        _wait(lambda: sender.fast == 39)
        assert sender.fast == 39
        assert sender.most == 2
        sender.release.set()


def test_an_endpoint_that_resolves_inside_is_not_posted_to() -> None:
    _, outbox = _outbox("ep_a")
    outbox.add(_messages("ep_a", [1]))
    sender = MemoryWebhookSender(SystemClock().now)
    resolver = MemoryResolver({"ep_a.example.com": ["10.0.0.7"]})
    settings = DispatchSettings(workers=2, schedule=RetrySchedule((0,)))
    since = datetime.now(UTC) - timedelta(days=1)
    with _running(Dispatcher(outbox, sender, SystemClock(), settings, resolver=resolver)):
        _wait(lambda: outbox.messages("ep_a", since, MessageStatus.DEAD))
    (dead,) = outbox.messages("ep_a", since, MessageStatus.DEAD)
    assert sender.sent == []
    assert "10.0.0.7" in dead.history[0].answer


def test_each_recorded_outcome_is_counted_once_by_outcome() -> None:
    _, outbox = _outbox("ep_ok", "ep_bad", "ep_gone")
    outbox.add(_messages("ep_ok", [1, 2, 3]) + _messages("ep_bad", [1, 2]))
    outbox.add(_messages("ep_gone", [1]))
    codes = {"ep_ok": 200, "ep_bad": 500, "ep_gone": 410}
    sender = MemoryWebhookSender(
        SystemClock().now, lambda url: codes[url.split("//")[1].split(".")[0]]
    )
    meter = Meter()
    settings = DispatchSettings(workers=4, per_endpoint=2, schedule=SCHEDULE)
    with _running(Dispatcher(outbox, sender, SystemClock(), settings, meter=meter)):
        _wait(lambda: outbox.oldest_waiting() is None)
    counted = {
        labels[0]: value
        for (family, labels), value in meter.reading().values.items()
        if family is WEBHOOK_DELIVERIES
    }
    # Three attempts each for ep_bad's two (two failures, then given up), one 410.
    assert counted == {"delivered": 3, "failed": 4, "given_up": 3}
    assert sum(counted.values()) == len(sender.sent)


def test_the_backlog_gauge_is_the_oldest_waiting_messages_age() -> None:
    clock = FixedClock(datetime(2026, 11, 25, 4, 0, tzinfo=UTC))
    _, outbox = _outbox("ep_down")
    meter = Meter()
    settings = DispatchSettings(workers=2, per_endpoint=2, schedule=RetrySchedule((0, 3600)))
    with _running(
        Dispatcher(
            outbox, MemoryWebhookSender(clock.now, lambda url: 500), clock, settings, meter=meter
        )
    ):
        _wait(lambda: (WEBHOOK_BACKLOG_AGE, ()) in meter.reading().values)
    assert meter.reading().values[(WEBHOOK_BACKLOG_AGE, ())] == 0.0

    outbox.add([NewMessage("ep_down", 1, "t", b"{}", clock.now() - timedelta(seconds=90))])
    meter = Meter()
    sender = MemoryWebhookSender(clock.now, lambda url: 500)
    with _running(Dispatcher(outbox, sender, clock, settings, meter=meter)):
        _wait(lambda: len(sender.sent) == 1)
        assert meter.reading().values[(WEBHOOK_BACKLOG_AGE, ())] == 90.0
        clock.advance(timedelta(seconds=5))
        _wait(lambda: meter.reading().values.get((WEBHOOK_BACKLOG_AGE, ())) == 95.0)
    assert meter.reading().values[(WEBHOOK_BACKLOG_AGE, ())] == 95.0


class AwayOutbox(MemoryWebhookOutbox):
    """An outbox whose database is away for the first `away` writes of outcomes."""

    def __init__(self, subscriptions: MemoryWebhookSubscriptions, away: int) -> None:
        super().__init__(subscriptions)
        self.away = away

    def finish(self, outcomes: Sequence[Outcome]) -> int:
        if self.away > 0:
            self.away -= 1
            raise StorageUnavailable("the database is away")
        return super().finish(outcomes)


def test_outcomes_are_recorded_however_long_the_database_is_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dispatch, "FINISH_PAUSE_S", 0.001)
    subscriptions, _ = _outbox("ep_a")
    outbox = AwayOutbox(subscriptions, away=5 * dispatch.FINISH_TRIES)
    outbox.add(_messages("ep_a", [1, 2, 3]))
    sender = MemoryWebhookSender(SystemClock().now, lambda url: 200)
    since = datetime.now(UTC) - timedelta(days=1)
    with _running(Dispatcher(outbox, sender, SystemClock(), DispatchSettings(workers=2))):
        _wait(lambda: len(outbox.messages("ep_a", since, MessageStatus.DELIVERED)) == 3)

    assert outbox.away == 0
    delivered = outbox.messages("ep_a", since, MessageStatus.DELIVERED)
    assert len(delivered) == 3
    assert all(len(message.history) == 1 for message in delivered)


def test_a_stopping_dispatcher_gives_up_recording_after_its_tries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dispatch, "FINISH_PAUSE_S", 0.001)
    subscriptions, _ = _outbox("ep_a")
    outbox = AwayOutbox(subscriptions, away=10**9)
    outbox.add(_messages("ep_a", [1]))
    sender = MemoryWebhookSender(SystemClock().now, lambda url: 200)
    dispatcher = Dispatcher(outbox, sender, SystemClock(), DispatchSettings(workers=2))
    thread = threading.Thread(target=dispatcher.run)
    thread.start()
    _wait(lambda: len(sender.sent) == 1)
    dispatcher.stop()
    thread.join(10)

    assert not thread.is_alive()
    # Not recorded: the message waits for its claim to run out, and is sent again then.
    assert outbox.messages("ep_a", datetime.now(UTC) - timedelta(days=1))[0].history == ()


class CountedClaims(MemoryWebhookOutbox):
    def __init__(self, subscriptions: MemoryWebhookSubscriptions) -> None:
        super().__init__(subscriptions)
        self.claims = 0

    def claim(self, *args: Any, **kwargs: Any) -> list[Delivery]:
        self.claims += 1
        return super().claim(*args, **kwargs)


def test_a_trickle_of_messages_is_claimed_once_an_idle_period_not_once_a_message() -> None:
    subscriptions, _ = _outbox("ep_a")
    outbox = CountedClaims(subscriptions)
    sender = MemoryWebhookSender(SystemClock().now, lambda url: 200)
    idle = timedelta(milliseconds=50)
    settings = DispatchSettings(workers=4, per_endpoint=4, idle=idle)
    since = datetime.now(UTC) - timedelta(days=1)
    with _running(Dispatcher(outbox, sender, SystemClock(), settings)):
        started = time.monotonic()
        for sno in range(1, 61):  # one message every 10 ms, each sent at once
            outbox.add(_messages("ep_a", [sno]))
            time.sleep(0.01)
        _wait(lambda: len(outbox.messages("ep_a", since, MessageStatus.DELIVERED)) == 60)
        took = time.monotonic() - started

    assert len(outbox.messages("ep_a", since, MessageStatus.DELIVERED)) == 60
    # About one claim per idle period (a few more where deliveries came back between),
    # never one or two per message.
    assert outbox.claims <= took / idle.total_seconds() + 10
