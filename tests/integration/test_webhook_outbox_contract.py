"""One contract for the WebhookOutbox port (and the outbox rows ShipmentRepository writes
with a change), on memory, SQLite and MariaDB."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from attrs import frozen

from logistic.adapters.memory import MemoryShipmentRepository
from logistic.adapters.memory_webhooks import MemoryWebhookOutbox, MemoryWebhookSubscriptions
from logistic.adapters.sql.repository import SqlShipmentRepository
from logistic.adapters.sql.webhook_outbox import SqlWebhookOutbox
from logistic.adapters.sql.webhook_subscriptions import SqlWebhookSubscriptions
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.errors import ConcurrentUpdate
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact, Shipment, TrackingEvent
from logistic.domain.status import Status
from logistic.domain.webhook import (
    FAILING_LIMIT,
    Attempt,
    Delivery,
    MessageStatus,
    NewMessage,
    Subscription,
)
from logistic.ports.repositories import Locked, NewEvent, NewShipment, ShipmentRepository
from logistic.ports.webhook_outbox import Outcome, WebhookOutbox
from logistic.ports.webhook_subscriptions import WebhookSubscriptions
from tests.integration.sql_backends import Backend

NOW = datetime(2026, 11, 25, 4, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=60)
BODY = '{"type":"shipment.status_changed","data":{"name":"李"}}'.encode()


@frozen
class Hooks:
    subscriptions: WebhookSubscriptions
    outbox: WebhookOutbox
    shipments: ShipmentRepository


@pytest.fixture
def hooks(empty_backend: Backend) -> Hooks:
    empty_backend.locations.sync(LOGISTICS_CENTERS)
    if empty_backend.engine is None:
        subscriptions = MemoryWebhookSubscriptions()
        outbox = MemoryWebhookOutbox(subscriptions)
        return Hooks(subscriptions, outbox, MemoryShipmentRepository(outbox))
    engine = empty_backend.engine
    return Hooks(
        SqlWebhookSubscriptions(engine), SqlWebhookOutbox(engine), SqlShipmentRepository(engine)
    )


def _subscribed(hooks: Hooks, name: str = "ep_a", **changes: object) -> Subscription:
    subscription = Subscription(
        id=name,
        url=f"https://{name}.example.com/in",
        statuses=(),
        description="",
        enabled=True,
        secret="whsec_" + "A" * 32,
        created_at=NOW,
    )
    subscription = Subscription(**{**subscription.__getstate__(), **changes})  # type: ignore[arg-type]
    hooks.subscriptions.add(subscription)
    return subscription


def _message(sno: int, subscription: str = "ep_a", at: datetime = NOW) -> NewMessage:
    return NewMessage(subscription, sno, "shipment.status_changed", BODY, at)


def _done(delivery: Delivery, code: int | None, at: datetime = NOW) -> Outcome:
    attempt = Attempt(at, code, 12, "x" * 1024)
    if code is not None and 200 <= code < 300:
        return Outcome(delivery, attempt, MessageStatus.DELIVERED, None)
    if code == 410:
        return Outcome(delivery, attempt, MessageStatus.DEAD, None)
    return Outcome(delivery, attempt, MessageStatus.FAILED, at + timedelta(seconds=5))


def test_nothing_is_due_at_first(hooks: Hooks) -> None:
    _subscribed(hooks)
    assert hooks.outbox.claim(NOW, 10, LEASE, "t1") == []


def test_a_claim_hands_a_message_out_once_until_its_lease_runs_out(hooks: Hooks) -> None:
    subscription = _subscribed(hooks)
    hooks.outbox.add([_message(7)])

    (claimed,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    assert claimed.url == subscription.url
    assert claimed.secrets == (subscription.secret,)
    assert claimed.message.body == BODY
    assert claimed.message.webhook_id.startswith("msg_")
    assert hooks.outbox.claim(NOW + LEASE - timedelta(seconds=1), 10, LEASE, "t2") == []
    (again,) = hooks.outbox.claim(NOW + LEASE, 10, LEASE, "t2")
    assert again.message.id == claimed.message.id
    # The first claimer's late outcome is not recorded: the claim is not theirs now.
    assert hooks.outbox.finish([_done(claimed, 200)]) == 0
    assert hooks.outbox.finish([_done(again, 200, NOW + LEASE)]) == 1


def test_a_delivered_message_is_listed_with_its_attempts_and_not_claimed(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(7)])
    (claimed,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(claimed, 204)])

    assert hooks.outbox.claim(NOW + timedelta(days=1), 10, LEASE, "t2") == []
    (listed,) = hooks.outbox.messages("ep_a", NOW - timedelta(days=7), MessageStatus.DELIVERED)
    assert listed.status is MessageStatus.DELIVERED
    assert listed.attempts == 1
    assert listed.next_attempt_at is None
    assert listed.history == (Attempt(NOW, 204, 12, "x" * 1024),)
    assert hooks.outbox.messages("ep_a", NOW - timedelta(days=7), MessageStatus.FAILED) == []
    assert hooks.outbox.messages("ep_a", NOW + timedelta(seconds=1)) == []


def test_a_failed_message_is_due_again_at_its_next_attempt(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(7)])
    (claimed,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(claimed, 500)])

    (listed,) = hooks.outbox.messages("ep_a", NOW - timedelta(days=1), MessageStatus.FAILED)
    assert listed.next_attempt_at == NOW + timedelta(seconds=5)
    assert hooks.outbox.claim(NOW + timedelta(seconds=4), 10, LEASE, "t2") == []
    (again,) = hooks.outbox.claim(NOW + timedelta(seconds=5), 10, LEASE, "t2")
    assert again.message.attempts == 1


def test_one_shipments_messages_go_out_one_at_a_time_in_order(hooks: Hooks) -> None:
    _subscribed(hooks)
    _subscribed(hooks, "ep_b")
    hooks.outbox.add([_message(7), _message(7), _message(8), _message(7, "ep_b")])

    first = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    assert sorted((d.message.subscription_id, d.message.sno) for d in first) == [
        ("ep_a", 7),
        ("ep_a", 8),
        ("ep_b", 7),
    ]
    head = next(d for d in first if d.message.subscription_id == "ep_a" and d.message.sno == 7)
    hooks.outbox.finish([_done(head, 500)])
    # Failed, the first stays in front: the second waits behind it.
    assert hooks.outbox.claim(NOW + timedelta(seconds=1), 10, LEASE, "t2") == []
    (retried,) = hooks.outbox.claim(NOW + timedelta(seconds=5), 10, LEASE, "t2")
    assert retried.message.id == head.message.id
    hooks.outbox.finish([_done(retried, 200, NOW + timedelta(seconds=5))])
    (second,) = hooks.outbox.claim(NOW + timedelta(seconds=5), 10, LEASE, "t3")
    assert second.message.sno == 7
    assert second.message.id > head.message.id


def test_a_dead_message_lets_the_next_one_go(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(7), _message(7)])
    (head,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([Outcome(head, Attempt(NOW, 500, 1, ""), MessageStatus.DEAD, None)])

    (second,) = hooks.outbox.claim(NOW, 10, LEASE, "t2")
    assert second.message.id > head.message.id


def test_disabled_and_busy_endpoints_get_nothing(hooks: Hooks) -> None:
    _subscribed(hooks, "ep_off", enabled=False)
    _subscribed(hooks, "ep_busy")
    _subscribed(hooks, "ep_free")
    hooks.outbox.add([_message(1, "ep_off"), _message(2, "ep_busy"), _message(3, "ep_free")])

    claimed = hooks.outbox.claim(NOW, 10, LEASE, "t1", busy={"ep_busy"})
    assert [d.message.subscription_id for d in claimed] == ["ep_free"]


def test_a_claim_takes_at_most_its_limit_oldest_due_first(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(sno, at=NOW + timedelta(seconds=sno)) for sno in (3, 1, 2)])

    claimed = hooks.outbox.claim(NOW + timedelta(seconds=9), 2, LEASE, "t1")
    assert [d.message.sno for d in claimed] == [1, 2]


def test_a_released_message_is_due_at_once(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(7)])
    (claimed,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.release([claimed], NOW)

    (again,) = hooks.outbox.claim(NOW, 10, LEASE, "t2")
    assert again.message.id == claimed.message.id


def test_a_410_disables_the_endpoint(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(7), _message(8)])
    first, _ = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(first, 410)])

    stored = hooks.subscriptions.get("ep_a")
    assert stored is not None
    assert not stored.enabled


def test_five_days_of_failures_disable_the_endpoint_a_success_ends_the_streak(
    hooks: Hooks,
) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(sno) for sno in (1, 2, 3)])
    one, two, three = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(one, 500)])
    hooks.outbox.finish([_done(two, 200, NOW + timedelta(days=1))])
    assert hooks.subscriptions.get("ep_a").failing_since is None  # type: ignore[union-attr]

    later = NOW + timedelta(days=2)
    (one,) = hooks.outbox.claim(later, 1, LEASE, "t2")
    hooks.outbox.finish([_done(one, None, later)])
    assert hooks.subscriptions.get("ep_a").failing_since == later  # type: ignore[union-attr]
    hooks.outbox.finish([_done(three, 500, later + FAILING_LIMIT - timedelta(seconds=1))])
    assert hooks.subscriptions.get("ep_a").enabled  # type: ignore[union-attr]
    (one,) = hooks.outbox.claim(later + FAILING_LIMIT, 1, LEASE, "t3")
    hooks.outbox.finish([_done(one, 500, later + FAILING_LIMIT)])
    assert not hooks.subscriptions.get("ep_a").enabled  # type: ignore[union-attr]


def test_a_retry_sends_a_delivered_message_again_under_its_id(hooks: Hooks) -> None:
    _subscribed(hooks)
    _subscribed(hooks, "ep_b")
    hooks.outbox.add([_message(7)])
    (claimed,) = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(claimed, 200)])

    assert hooks.outbox.retry("ep_b", claimed.message.id, NOW) is None
    assert hooks.outbox.retry("ep_a", claimed.message.id + 1000, NOW) is None
    retried = hooks.outbox.retry("ep_a", claimed.message.id, NOW + timedelta(hours=1))
    assert retried is not None
    assert retried.status is MessageStatus.PENDING
    assert len(retried.history) == 1
    (again,) = hooks.outbox.claim(NOW + timedelta(hours=1), 10, LEASE, "t2")
    assert again.message.webhook_id == claimed.message.webhook_id


def test_the_purge_deletes_finished_messages_only(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(1), _message(2), _message(3)])
    one, two, _ = hooks.outbox.claim(NOW, 10, LEASE, "t1")
    hooks.outbox.finish([_done(one, 200), _done(two, 500)])

    assert hooks.outbox.purge(NOW) == 0
    assert hooks.outbox.purge(NOW + timedelta(seconds=1)) == 1
    left = hooks.outbox.messages("ep_a", NOW - timedelta(days=1))
    assert sorted(m.sno for m in left) == [2, 3]


def test_deleting_a_subscription_forgets_its_messages(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(1)])
    assert hooks.subscriptions.delete("ep_a")

    _subscribed(hooks)
    assert hooks.outbox.claim(NOW, 10, LEASE, "t1") == []


def test_concurrent_claims_never_share_a_message(hooks: Hooks) -> None:
    _subscribed(hooks)
    hooks.outbox.add([_message(sno) for sno in range(1, 201)])
    start = threading.Barrier(4)

    def claim_all(token: str) -> list[int]:
        start.wait()
        taken: list[int] = []
        while claimed := hooks.outbox.claim(NOW, 10, LEASE, token):
            taken += [d.message.id for d in claimed]
        return taken

    with ThreadPoolExecutor(4) as pool:
        shares = list(pool.map(claim_all, ["a", "b", "c", "d"]))
    every = [number for share in shares for number in share]
    assert len(every) == len(set(every)) == 200


def _shipment(shipments: ShipmentRepository) -> Shipment:
    event = TrackingEvent(Status.CREATED, 2, NOW - timedelta(hours=1))
    plan = PlannedShipment(2, 17, NOW - timedelta(hours=2), (event,))
    new = NewShipment(Contact("李小明", "0966123401", "台北"), plan, NOW + timedelta(days=3))
    return shipments.add_many([new])[0]


def test_an_events_messages_are_written_with_it_and_only_with_it(hooks: Hooks) -> None:
    _subscribed(hooks)
    shipment = _shipment(hooks.shipments)
    event = TrackingEvent(Status.PACKAGE_RECEIVED, 2, NOW)
    seen: list[Shipment] = []

    def messages(updated: Shipment) -> list[NewMessage]:
        seen.append(updated)
        return [_message(updated.sno), _message(updated.sno)]

    with pytest.raises(ConcurrentUpdate):
        hooks.shipments.append_event(shipment.sno, event, expected_events=0, messages=messages)
    assert hooks.outbox.claim(NOW, 10, LEASE, "t1") == []

    hooks.shipments.append_event(shipment.sno, event, expected_events=1, messages=messages)
    assert seen[-1].current_status is Status.PACKAGE_RECEIVED
    assert len(hooks.outbox.messages("ep_a", NOW - timedelta(days=1))) == 2


def test_new_shipments_messages_are_written_with_them(hooks: Hooks) -> None:
    _subscribed(hooks)
    event = TrackingEvent(Status.CREATED, 2, NOW - timedelta(hours=1))
    plan = PlannedShipment(2, 17, NOW - timedelta(hours=2), (event,))
    new = NewShipment(Contact("李小明", "0966123401", "台北"), plan, NOW + timedelta(days=3))

    stored = hooks.shipments.add_many([new, new], lambda s: [_message(s.sno)])
    listed = hooks.outbox.messages("ep_a", NOW - timedelta(days=1))
    assert sorted(m.sno for m in listed) == sorted(s.sno for s in stored)


def test_a_claim_takes_at_most_each_of_one_subscription(hooks: Hooks) -> None:
    _subscribed(hooks)
    _subscribed(hooks, "ep_b")
    hooks.outbox.add([_message(sno) for sno in range(1, 6)])
    hooks.outbox.add([_message(sno, "ep_b") for sno in range(1, 3)])

    claimed = hooks.outbox.claim(NOW, 10, LEASE, "t1", each=2)
    assert sorted(d.message.subscription_id for d in claimed) == ["ep_a", "ep_a", "ep_b", "ep_b"]


def test_a_batchs_messages_are_written_with_it_one_per_event_in_order(hooks: Hooks) -> None:
    _subscribed(hooks)
    shipment = _shipment(hooks.shipments)
    steps = (Status.PACKAGE_RECEIVED, Status.IN_TRANSIT)
    seen: list[tuple[Status | None, int]] = []

    def decide(found: Locked) -> dict[int, list[NewEvent]]:
        assert shipment.sno in found.shipments
        return {shipment.sno: [NewEvent(TrackingEvent(status, 2, NOW)) for status in steps]}

    def messages(state: Shipment) -> list[NewMessage]:
        seen.append((state.current_status, len(state.events)))
        return [_message(state.sno)]

    hooks.shipments.append_events([shipment.sno], [], decide, messages)

    assert seen == [(Status.PACKAGE_RECEIVED, 2), (Status.IN_TRANSIT, 3)]
    assert len(hooks.outbox.messages("ep_a", NOW - timedelta(days=1))) == 2


def test_the_oldest_waiting_message_is_the_first_added_not_delivered_or_dead(
    hooks: Hooks,
) -> None:
    _subscribed(hooks)
    assert hooks.outbox.oldest_waiting() is None
    later = NOW + timedelta(minutes=1)
    hooks.outbox.add([_message(1), _message(2, at=later), _message(3, at=later)])
    assert hooks.outbox.oldest_waiting() == NOW

    first, second, third = hooks.outbox.claim(later, 10, LEASE, "t1")
    assert hooks.outbox.oldest_waiting() == NOW  # claimed is still waiting
    given_up = Outcome(third, Attempt(NOW, 500, 1, ""), MessageStatus.DEAD, None)
    hooks.outbox.finish([_done(first, 200), _done(second, 500), given_up])
    assert hooks.outbox.oldest_waiting() == later  # the failed one waits for its retry

    (again,) = hooks.outbox.claim(later + timedelta(seconds=5), 10, LEASE, "t2")
    hooks.outbox.finish([_done(again, 204)])
    assert hooks.outbox.oldest_waiting() is None
    hooks.outbox.retry("ep_a", first.message.id, later)
    assert hooks.outbox.oldest_waiting() == NOW
