"""The lifecycle table: which status may follow which."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistic.domain.status import (
    TERMINAL,
    TRANSITIONS,
    Status,
    allowed_next,
    current_status,
    is_valid_history,
)

C, PR, IT, OFD, DA, D, RTS, EX = (
    Status.CREATED,
    Status.PACKAGE_RECEIVED,
    Status.IN_TRANSIT,
    Status.OUT_FOR_DELIVERY,
    Status.DELIVERY_ATTEMPTED,
    Status.DELIVERED,
    Status.RETURNED_TO_SENDER,
    Status.EXCEPTION,
)

# The shortest history that reaches each stage.
PATH_TO: dict[Status | None, list[Status]] = {
    None: [],
    C: [C],
    PR: [C, PR],
    IT: [C, PR, IT],
    OFD: [C, PR, IT, OFD],
    DA: [C, PR, IT, OFD, DA],
    D: [C, PR, IT, OFD, D],
    RTS: [C, PR, IT, RTS],
}
STAGES = [stage for stage in PATH_TO if stage is not None]


@st.composite
def valid_histories(draw: st.DrawFn, max_length: int = 14) -> list[Status]:
    """A history built by always picking one of the statuses the lifecycle allows next."""
    history: list[Status] = []
    for _ in range(draw(st.integers(1, max_length))):
        allowed = allowed_next(history)
        if not allowed:
            break
        history.append(draw(st.sampled_from(sorted(allowed))))
    return history


any_status = st.sampled_from(list(Status))
finished_histories = valid_histories(max_length=40).filter(lambda history: history[-1] in TERMINAL)


def test_every_stage_has_a_row_and_exception_is_not_a_stage() -> None:
    assert set(TRANSITIONS) == {None, *STAGES}
    assert EX not in TRANSITIONS


@pytest.mark.parametrize("stage", STAGES)
def test_the_paths_used_by_these_tests_are_valid(stage: Status) -> None:
    assert is_valid_history(PATH_TO[stage])
    assert current_status(PATH_TO[stage]) == stage


@pytest.mark.parametrize(
    ("stage", "following"),
    [(stage, following) for stage, targets in TRANSITIONS.items() for following in targets],
)
def test_every_listed_transition_is_accepted(stage: Status | None, following: Status) -> None:
    assert following in allowed_next(PATH_TO[stage])
    assert is_valid_history([*PATH_TO[stage], following])


@pytest.mark.parametrize("stage", STAGES)
def test_no_unlisted_transition_is_accepted(stage: Status) -> None:
    assert allowed_next(PATH_TO[stage]) == TRANSITIONS[stage]


def test_only_created_may_start_a_history() -> None:
    assert allowed_next([]) == {C}


@given(first=any_status.filter(lambda status: status is not C), rest=st.lists(any_status))
def test_nothing_is_accepted_before_created(first: Status, rest: list[Status]) -> None:
    assert not is_valid_history([first, *rest])


def test_an_empty_history_is_not_valid() -> None:
    assert not is_valid_history([])


def test_package_received_cannot_be_skipped() -> None:
    assert not is_valid_history([C, IT])
    assert IT not in allowed_next([C])


@settings(max_examples=200)
@given(history=finished_histories, following=any_status)
def test_nothing_is_accepted_after_a_terminal_status(
    history: list[Status], following: Status
) -> None:
    assert allowed_next(history) == frozenset()
    assert not is_valid_history([*history, following])


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
@pytest.mark.parametrize("following", list(Status))
def test_terminal_statuses_end_the_history(terminal: Status, following: Status) -> None:
    assert terminal.is_terminal
    assert not is_valid_history([*PATH_TO[terminal], following])


@pytest.mark.parametrize("stage", [C, PR, IT, OFD, DA])
def test_after_an_exception_the_shipment_resumes_its_stage_or_returns(stage: Status) -> None:
    paused = [*PATH_TO[stage], EX]

    assert allowed_next(paused) == (TRANSITIONS[stage] - {EX}) | {RTS}


def test_a_parcel_in_transit_may_resume_its_transit_after_an_exception() -> None:
    assert is_valid_history([C, PR, IT, EX, IT, OFD, D])


def test_an_exception_does_not_let_a_parcel_skip_a_stage() -> None:
    assert not is_valid_history([C, PR, EX, OFD])


def test_any_exception_may_end_in_a_return_to_sender() -> None:
    for stage in (C, PR, IT, OFD, DA):
        assert is_valid_history([*PATH_TO[stage], EX, RTS])


def test_two_exceptions_in_a_row_are_refused() -> None:
    assert not is_valid_history([C, EX, EX])


@settings(max_examples=200)
@given(history=valid_histories())
def test_every_prefix_of_a_valid_history_is_valid(history: list[Status]) -> None:
    assert is_valid_history(history)
    assert all(is_valid_history(history[:end]) for end in range(1, len(history) + 1))
    assert current_status(history) == history[-1]
