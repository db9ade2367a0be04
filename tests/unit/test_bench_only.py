"""The bench's --only: name prefixes, where a comma and a space belong to a figure's name."""

from __future__ import annotations

import pytest
from bench.run import only_prefixes


@pytest.mark.parametrize(
    ("only", "prefixes"),
    [
        ("hit,ceiling", ("hit", "ceiling")),
        ("hit c8,ceiling, granian", ("hit c8", "ceiling, granian")),
        ("miss c8 (1M), PyMySQL", ("miss c8 (1M), PyMySQL",)),
        ("seeding,,report ", ("seeding", "report")),
        ("", ()),
    ],
)
def test_commas_separate_prefixes_but_a_comma_and_a_space_belong_to_a_name(
    only: str, prefixes: tuple[str, ...]
) -> None:
    assert only_prefixes(only) == prefixes
