"""Delivering the outbox: claim due messages, post them signed, record what happened.

A pool of workers posts; the loop that claims and records never waits on an endpoint.
Each endpoint has at most `per_endpoint` messages in flight from this process, so a
slow one takes that many workers, never the whole pool. Outcomes are recorded in
batches: one transaction for all the answers that came in since the last.
"""

from __future__ import annotations

import logging
import queue
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

from attrs import field, frozen

from logistic.domain.errors import StorageUnavailable
from logistic.domain.retry_schedule import RetrySchedule
from logistic.domain.webhook import KEPT_FOR, Attempt, Delivery, MessageStatus
from logistic.domain.webhook_address import refused
from logistic.domain.webhook_signature import webhook_headers
from logistic.ports.clock import Clock
from logistic.ports.host_resolver import HostResolver
from logistic.ports.webhook_outbox import Outcome, WebhookOutbox
from logistic.ports.webhook_sender import WebhookSender
from logistic.services.metering import SILENT, WEBHOOK_BACKLOG_AGE, WEBHOOK_DELIVERIES, Meter

log = logging.getLogger(__name__)

PURGE_EVERY = timedelta(hours=1)
# How long the outcomes that follow the first are waited for, to be recorded together.
GATHER_S = 0.005
# At most this many outcomes per transaction. A failing write is tried again each
# FINISH_PAUSE_S, logged every FINISH_TRIES tries, and given up FINISH_TRIES tries into a stop.
RECORDED_AT_ONCE = 500
FINISH_TRIES = 30
FINISH_PAUSE_S = 1.0
# Messages claimed ahead, per worker.
PREFETCH = 4
# How long a host's addresses are trusted before they are checked again.
ADDRESSES_TTL_S = 60.0
# How often the age of the oldest waiting message is read for its gauge.
BACKLOG_EVERY = timedelta(seconds=5)
# The label each recorded outcome is counted under.
OUTCOME_LABELS = {
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.FAILED: "failed",
    MessageStatus.DEAD: "given_up",
}


def outcome_of(
    delivery: Delivery, attempt: Attempt, schedule: RetrySchedule, rng: random.Random
) -> Outcome:
    """Delivered on a 2xx; dead on a 410 or after the schedule's last attempt; else
    failed, and due again after the schedule's next delay."""
    if attempt.succeeded:
        return Outcome(delivery, attempt, MessageStatus.DELIVERED, None)
    if attempt.gone:
        return Outcome(delivery, attempt, MessageStatus.DEAD, None)
    delay = schedule.after_failure(delivery.message.attempts + 1, rng)
    if delay is None:
        return Outcome(delivery, attempt, MessageStatus.DEAD, None)
    return Outcome(delivery, attempt, MessageStatus.FAILED, attempt.at + delay)


@frozen
class DispatchSettings:
    workers: int = 32
    per_endpoint: int = 16
    # Longer than the sender's timeout: a claim must outlive the attempt it is for.
    lease: timedelta = timedelta(seconds=60)
    timeout: timedelta = timedelta(seconds=10)
    # How long the loop sleeps when nothing is due and nothing is in flight, and the
    # least time between claims while the outbox is drained.
    idle: timedelta = timedelta(milliseconds=50)
    schedule: RetrySchedule = field(factory=RetrySchedule)
    # Endpoints on private addresses are posted to (else refused at each attempt too:
    # a host may resolve elsewhere since it was subscribed).
    allow_private: bool = False


class Dispatcher:
    def __init__(
        self,
        outbox: WebhookOutbox,
        sender: WebhookSender,
        clock: Clock,
        settings: DispatchSettings | None = None,
        rng: random.Random | None = None,
        resolver: HostResolver | None = None,
        meter: Meter = SILENT,
    ) -> None:
        self._outbox = outbox
        self._sender = sender
        self._clock = clock
        self._settings = settings or DispatchSettings()
        self._rng = rng or random.Random()
        # Marks this process's claims: an outcome is recorded only while its claim holds.
        self._token = secrets.token_hex(8)
        self._done: queue.Queue[Outcome] = queue.Queue()
        self._in_flight: Counter[str] = Counter()
        # Claimed, not started yet (with when they were claimed), and claimed in all.
        self._waiting: dict[str, deque[tuple[float, Delivery]]] = {}
        self._held: Counter[str] = Counter()
        # Outcomes for the recorder thread; set once no more will come.
        self._unrecorded: queue.Queue[Outcome] = queue.Queue()
        self._recorded = threading.Event()
        self._stop = threading.Event()
        self._attempts = 0
        self._next_claim = 0.0  # time.monotonic() before which no claim is made
        self._resolver = resolver
        self._private: dict[str, tuple[float, str | None]] = {}
        self._meter = meter

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Deliver until `stop` is called; then wait for the attempts under way, and give
        back the claimed messages not started."""
        recorder = threading.Thread(target=self._recorder, name="webhook-recorder")
        recorder.start()
        with ThreadPoolExecutor(self._settings.workers, "webhook") as pool:
            next_purge = next_backlog = self._clock.now()
            while not self._stop.is_set():
                try:
                    if self._clock.now() >= next_purge:
                        purged = self._outbox.purge(self._clock.now() - KEPT_FOR)
                        if purged:
                            log.info("purged %d delivered or dead webhook messages", purged)
                        next_purge = self._clock.now() + PURGE_EVERY
                    if self._clock.now() >= next_backlog:
                        self._gauge_backlog()
                        next_backlog = self._clock.now() + BACKLOG_EVERY
                    self._claim()
                except StorageUnavailable as error:
                    log.warning("webhook outbox unavailable: %s", error)
                    self._stop.wait(1.0)
                    continue
                started = self._start(pool)
                self._collect(wait=not started)
            while sum(self._in_flight.values()):
                self._collect(wait=True)
        self._give_back()
        self._recorded.set()
        recorder.join()
        log.info("dispatcher stopped after %d attempts", self._attempts)

    def _gauge_backlog(self) -> None:
        oldest = self._outbox.oldest_waiting()
        age = 0.0 if oldest is None else (self._clock.now() - oldest).total_seconds()
        self._meter.set(WEBHOOK_BACKLOG_AGE, max(0.0, age))

    def _claim(self) -> None:
        """Claim ahead of the free workers (PREFETCH times as many), once half of that
        is used up: a claim is a transaction, and a few big ones cost less than many."""
        settings = self._settings
        capacity = settings.workers * PREFETCH
        held = sum(self._held.values())
        if held > capacity // 2 or time.monotonic() < self._next_claim:
            return
        each = settings.per_endpoint * PREFETCH
        busy = {key for key, count in self._held.items() if count >= each}
        claimed = self._outbox.claim(
            self._clock.now(), capacity - held, settings.lease, self._token, busy, each=each
        )
        now = time.monotonic()
        # Less than one endpoint's share, none held back: the outbox is drained for now.
        # Wait `idle` before the next claim, not claim after each delivery (a transaction
        # a message).
        if not busy and len(claimed) < min(each, capacity - held):
            self._next_claim = now + settings.idle.total_seconds()
        for delivery in claimed:
            endpoint = delivery.message.subscription_id
            self._waiting.setdefault(endpoint, deque()).append((now, delivery))
            self._held[endpoint] += 1

    def _start(self, pool: ThreadPoolExecutor) -> int:
        """Start the waiting deliveries the limits allow; how many were started."""
        settings = self._settings
        running = sum(self._in_flight.values())
        # A claim must outlive the attempt made under it, or another dispatcher may
        # take the message meanwhile: one too old is left to run out (then it is due).
        oldest = settings.lease.total_seconds() - settings.timeout.total_seconds() - 1
        started = 0
        for endpoint, waiting in self._waiting.items():
            while waiting and running < settings.workers:
                if self._in_flight[endpoint] >= settings.per_endpoint:
                    break
                claimed_at, delivery = waiting.popleft()
                if time.monotonic() - claimed_at > oldest:
                    self._held[endpoint] -= 1
                    continue
                self._in_flight[endpoint] += 1
                running += 1
                started += 1
                pool.submit(self._deliver, delivery)
        return started

    def _give_back(self) -> None:
        waiting = [delivery for queued in self._waiting.values() for _, delivery in queued]
        self._waiting.clear()
        try:
            self._outbox.release(waiting, self._clock.now())
        except StorageUnavailable as error:
            log.warning("could not give back %d claimed messages: %s", len(waiting), error)

    def _deliver(self, delivery: Delivery) -> None:
        message = delivery.message
        try:
            inside = self._inside_address(delivery.url)
            if inside is not None:
                attempt = Attempt(self._clock.now(), None, 0, f"not sent: {inside}")
            else:
                timestamp = int(self._clock.now().timestamp())
                headers = webhook_headers(
                    delivery.secrets, message.webhook_id, timestamp, message.body
                )
                attempt = self._sender.post(delivery.url, headers, message.body)
        except Exception as error:  # a worker must always report back
            log.exception("sending %s failed", message.webhook_id)
            attempt = Attempt(self._clock.now(), None, 0, f"not sent: {type(error).__name__}")
        self._done.put(outcome_of(delivery, attempt, self._settings.schedule, self._rng))

    def _inside_address(self, url: str) -> str | None:
        """Why `url` must not be posted to now (its host resolves inside), or None."""
        if self._settings.allow_private or self._resolver is None:
            return None
        host = urlsplit(url).hostname or ""
        now = time.monotonic()
        known = self._private.get(host)
        if known is not None and now - known[0] < ADDRESSES_TTL_S:
            return known[1]
        addresses = self._resolver.addresses(host)
        inside = [address for address in addresses if refused(address)]
        problem = None
        if not addresses:
            problem = f"{host} does not resolve"
        elif inside:
            problem = f"{host} resolves to {inside[0]}, an address webhooks are not sent to"
        self._private[host] = (now, problem)
        return problem

    def _collect(self, wait: bool) -> None:
        """Hand the outcomes that came in to the recorder (with `wait`, wait a moment for
        the first): their endpoints' slots are free again at once."""
        try:
            if wait:
                outcome = self._done.get(timeout=self._settings.idle.total_seconds())
            else:
                outcome = self._done.get_nowait()
            while True:
                endpoint = outcome.delivery.message.subscription_id
                self._in_flight[endpoint] -= 1
                self._held[endpoint] -= 1
                self._unrecorded.put(outcome)
                outcome = self._done.get_nowait()
        except queue.Empty:
            pass

    def _recorder(self) -> None:
        """Record outcomes in a thread of its own, many per transaction: the loop that
        claims and starts attempts never waits on the database for them."""
        while not (self._recorded.is_set() and self._unrecorded.empty()):
            outcomes: list[Outcome] = []
            try:
                outcomes.append(self._unrecorded.get(timeout=self._settings.idle.total_seconds()))
                until = time.monotonic() + GATHER_S
                while len(outcomes) < RECORDED_AT_ONCE:
                    left = until - time.monotonic()
                    outcomes.append(self._unrecorded.get(timeout=max(0.0, left)))
            except queue.Empty:
                pass
            if outcomes:
                self._finish(outcomes)

    def _finish(self, outcomes: Sequence[Outcome]) -> None:
        """Record `outcomes`, trying again while the database is away: for as long as the
        dispatcher runs, then FINISH_TRIES more times once it is stopping."""
        tries = late = 0
        while True:
            try:
                self._outbox.finish(outcomes)
            except StorageUnavailable as error:
                # Not recorded, the messages are sent again when their lease runs out;
                # recorded late, they are not. Logged once, then every FINISH_TRIES tries.
                if tries % FINISH_TRIES == 0:
                    log.warning("recording webhook outcomes failed, trying again: %s", error)
                tries += 1
                if self._recorded.is_set():
                    late += 1
                    if late >= FINISH_TRIES:
                        log.error(
                            "stopping without recording %d webhook outcomes: their messages"
                            " are sent again once their claims run out",
                            len(outcomes),
                        )
                        break
                time.sleep(FINISH_PAUSE_S)
                continue
            # Counted once written (an attempt whose claim had run out included: it was
            # made), never again on a retried write.
            for outcome in outcomes:
                self._meter.add(WEBHOOK_DELIVERIES, OUTCOME_LABELS[outcome.status])
            break
        self._attempts += len(outcomes)
