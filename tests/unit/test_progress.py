"""The progress rail of a tracking page: five stages, and what went wrong never hidden."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.progress import STAGES, Reached, rail
from logistic.domain.status import Status, allowed_next

S = Status


def _drawn(*history: Status) -> list[tuple[str, str]]:
    return [(step.status.value, step.reached.value) for step in rail(history).steps]


def test_a_parcel_in_transit_has_two_stages_done_and_two_ahead() -> None:
    assert _drawn(S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT, S.IN_TRANSIT) == [
        ("Created", "done"),
        ("Package Received", "done"),
        ("In Transit", "current"),
        ("Out for Delivery", "ahead"),
        ("Delivered", "ahead"),
    ]
    assert rail([S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT]).setback is None


def test_an_exception_is_shown_at_the_stage_it_interrupted() -> None:
    drawn = rail([S.CREATED, S.PACKAGE_RECEIVED, S.EXCEPTION])
    assert drawn.setback is S.EXCEPTION
    assert drawn.current is not None
    assert drawn.current.status is S.PACKAGE_RECEIVED


def test_a_delivery_attempt_is_the_out_for_delivery_stage_with_its_setback() -> None:
    drawn = rail([S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY,
                  S.DELIVERY_ATTEMPTED])  # fmt: skip
    assert drawn.setback is S.DELIVERY_ATTEMPTED
    assert drawn.current is not None
    assert drawn.current.status is S.OUT_FOR_DELIVERY


def test_a_return_ends_the_rail_at_the_sender_after_the_stages_reached() -> None:
    assert _drawn(S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT, S.RETURNED_TO_SENDER) == [
        ("Created", "done"),
        ("Package Received", "done"),
        ("In Transit", "done"),
        ("Returned to Sender", "current"),
    ]
    assert rail([S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT, S.RETURNED_TO_SENDER]).setback is (
        S.RETURNED_TO_SENDER
    )


def test_delivered_is_the_last_stage_reached_and_nothing_went_wrong() -> None:
    history = [S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED]
    assert [step.reached for step in rail(history).steps] == [Reached.DONE] * 4 + [Reached.CURRENT]
    assert rail(history).setback is None


def test_an_empty_history_has_every_stage_ahead() -> None:
    assert {step.reached for step in rail([]).steps} == {Reached.AHEAD}


@st.composite
def histories(draw: st.DrawFn) -> list[Status]:
    history: list[Status] = []
    for _ in range(draw(st.integers(1, 12))):
        allowed = sorted(allowed_next(history))
        if not allowed:
            break
        history.append(draw(st.sampled_from(allowed)))
    return history


@given(histories())
def test_every_lawful_history_has_one_current_stage_done_before_it_and_ahead_after(
    history: list[Status],
) -> None:
    drawn = rail(history)
    reached = [step.reached for step in drawn.steps]
    assert reached.count(Reached.CURRENT) == 1
    at = reached.index(Reached.CURRENT)
    assert reached[:at] == [Reached.DONE] * at
    assert set(reached[at + 1 :]) <= {Reached.AHEAD}
    assert (drawn.setback is not None) == (history[-1] in
                                           {S.EXCEPTION, S.DELIVERY_ATTEMPTED,
                                            S.RETURNED_TO_SENDER})  # fmt: skip
    assert [step.status for step in drawn.steps][: min(at, 4)] == list(STAGES[: min(at, 4)])
