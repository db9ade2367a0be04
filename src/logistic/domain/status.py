"""The shipment lifecycle: the eight statuses and the transitions allowed between them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping


class Status(enum.StrEnum):
    CREATED = "Created"
    PACKAGE_RECEIVED = "Package Received"
    IN_TRANSIT = "In Transit"
    OUT_FOR_DELIVERY = "Out for Delivery"
    DELIVERY_ATTEMPTED = "Delivery Attempted"
    DELIVERED = "Delivered"
    RETURNED_TO_SENDER = "Returned to Sender"
    EXCEPTION = "Exception"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL: frozenset[Status] = frozenset({Status.DELIVERED, Status.RETURNED_TO_SENDER})

# What may follow each status. Exception is a pause, not a stage: after it the
# shipment resumes from the stage it was in (see `allowed_next`), or goes back
# to the sender. `None` stands for "no history yet".
TRANSITIONS: Mapping[Status | None, frozenset[Status]] = {
    None: frozenset({Status.CREATED}),
    Status.CREATED: frozenset({Status.PACKAGE_RECEIVED, Status.EXCEPTION}),
    Status.PACKAGE_RECEIVED: frozenset({Status.IN_TRANSIT, Status.EXCEPTION}),
    Status.IN_TRANSIT: frozenset(
        {Status.IN_TRANSIT, Status.OUT_FOR_DELIVERY, Status.RETURNED_TO_SENDER, Status.EXCEPTION}
    ),
    Status.OUT_FOR_DELIVERY: frozenset(
        {Status.DELIVERED, Status.DELIVERY_ATTEMPTED, Status.EXCEPTION}
    ),
    Status.DELIVERY_ATTEMPTED: frozenset(
        {
            Status.OUT_FOR_DELIVERY,
            Status.DELIVERED,
            Status.RETURNED_TO_SENDER,
            Status.EXCEPTION,
        }
    ),
    Status.DELIVERED: frozenset(),
    Status.RETURNED_TO_SENDER: frozenset(),
}


def allowed_next(history: Iterable[Status]) -> frozenset[Status]:
    """The statuses that may be recorded after `history` (oldest first)."""
    stage: Status | None = None
    paused = False
    for status in history:
        if status is Status.EXCEPTION:
            paused = True
        else:
            stage, paused = status, False
    if not paused:
        return TRANSITIONS[stage]
    resumable = TRANSITIONS[stage] - {Status.EXCEPTION}
    return resumable | {Status.RETURNED_TO_SENDER}


def current_status(history: Iterable[Status]) -> Status | None:
    last: Status | None = None
    for last in history:  # noqa: B007 - we want the final element
        pass
    return last


def is_valid_history(history: Iterable[Status]) -> bool:
    seen: list[Status] = []
    for status in history:
        if status not in allowed_next(seen):
            return False
        seen.append(status)
    return bool(seen)
