"""How far a parcel has come: the stages of its journey, as the tracking page draws them.

Five stages in order; a Delivery Attempted belongs to the Out for Delivery stage, an
Exception pauses the stage it interrupted, and a Returned to Sender takes the place of
Delivered as the end of the road. None of the three is hidden: each is the rail's
`setback`, shown at the stage where it happened.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from attrs import frozen

from logistic.domain.status import Status

STAGES: tuple[Status, ...] = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERED,
)
# The stage a status belongs to, when it is not a stage itself.
_STAGE_OF = {Status.DELIVERY_ATTEMPTED: Status.OUT_FOR_DELIVERY}
SETBACKS = frozenset({Status.EXCEPTION, Status.DELIVERY_ATTEMPTED, Status.RETURNED_TO_SENDER})


class Reached(enum.StrEnum):
    DONE = "done"
    CURRENT = "current"
    AHEAD = "ahead"


@frozen
class Step:
    status: Status
    reached: Reached


@frozen
class Rail:
    """The stages in order, the one the parcel is at marked CURRENT (the last one once
    delivered or returned), and what went wrong there, if anything did."""

    steps: tuple[Step, ...]
    setback: Status | None

    @property
    def current(self) -> Step | None:
        return next((step for step in self.steps if step.reached is Reached.CURRENT), None)


def rail(history: Iterable[Status]) -> Rail:
    """The rail of a history (oldest first); an empty history has every stage ahead."""
    statuses = list(history)
    stage: Status | None = None
    for status in statuses:
        if status is not Status.EXCEPTION and status is not Status.RETURNED_TO_SENDER:
            stage = _STAGE_OF.get(status, status)
    last = statuses[-1] if statuses else None
    setback = last if last in SETBACKS else None
    stages = list(STAGES)
    if last is Status.RETURNED_TO_SENDER:
        # The road ends at the sender: the stages reached, then the return, nothing ahead.
        reached = stages.index(stage) + 1 if stage is not None else 0
        stages = [*stages[:reached], Status.RETURNED_TO_SENDER]
        stage = Status.RETURNED_TO_SENDER
    at = stages.index(stage) if stage is not None else -1
    steps = tuple(Step(status, _reached(index, at)) for index, status in enumerate(stages))
    return Rail(steps, setback)


def _reached(index: int, at: int) -> Reached:
    if index < at:
        return Reached.DONE
    return Reached.CURRENT if index == at else Reached.AHEAD
