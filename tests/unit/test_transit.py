"""Transit percentiles read from a per-minute histogram, within a minute of the exact ones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.errors import InvalidInput
from logistic.domain.transit import TransitHistogram
from tests.reporting import exact_percentile


def test_nothing_delivered_has_no_percentile() -> None:
    assert TransitHistogram({}).percentile_hours(0.5) is None
    assert TransitHistogram({}).count == 0


def test_one_order_is_counted_at_the_middle_of_its_minute() -> None:
    assert TransitHistogram({90: 1}).percentile_hours(0.5) == round(90.5 / 60, 2)


def test_the_median_of_an_even_count_lies_between_the_middle_two() -> None:
    histogram = TransitHistogram({60: 1, 120: 1, 180: 1, 240: 1})

    assert histogram.percentile_hours(0.5) == round(150.5 / 60, 2)


def test_repeated_minutes_are_merged_and_negative_ones_count_as_instant() -> None:
    histogram = TransitHistogram([(5, 1), (5, 2), (-3, 1)])

    assert histogram.minutes == ((0, 1), (5, 3))
    assert histogram.count == 4


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_a_fraction_outside_zero_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(InvalidInput):
        TransitHistogram({1: 1}).percentile_hours(fraction)


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(InvalidInput):
        TransitHistogram({1: -1})


@given(
    seconds=st.lists(st.floats(min_value=0, max_value=30 * 86_400), min_size=1, max_size=300),
    fraction=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
)
def test_percentiles_are_within_a_minute_of_the_exact_ones(
    seconds: list[float], fraction: float
) -> None:
    histogram = TransitHistogram([(int(value // 60), 1) for value in seconds])

    estimate = histogram.percentile_hours(fraction)

    assert estimate is not None
    exact = exact_percentile(seconds, fraction) / 3600
    assert abs(estimate - exact) <= 1 / 60 + 0.005
