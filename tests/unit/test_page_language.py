"""Which language a tracking page speaks: asked for, remembered, or the browser's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.language import DEFAULT, Language, chosen, preferred


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Language.ZH_HANT),
        ("", Language.ZH_HANT),
        ("en-US,en;q=0.9", Language.EN),
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", Language.ZH_HANT),
        ("en-GB;q=0.5,zh-Hant;q=0.8", Language.ZH_HANT),
        ("fr-FR,fr;q=0.9,en;q=0.8", Language.EN),  # English is the first of ours it names
        ("fr-FR,de;q=0.9", Language.ZH_HANT),
        ("*", Language.ZH_HANT),
        ("en;q=0", Language.ZH_HANT),  # q=0 means "not this one"
        ("en;q=abc, zh;q=0.1", Language.ZH_HANT),
        ("zh-CN, en", Language.ZH_HANT),  # a tie: the first named wins
        ("EN", Language.EN),
    ],
)
def test_accept_language_picks_the_preferred_of_ours(
    header: str | None, expected: Language
) -> None:
    assert preferred(header) is expected


def test_asked_beats_remembered_beats_the_browser() -> None:
    assert chosen("en", "zh-Hant", "zh-TW") is Language.EN
    assert chosen(None, "en", "zh-TW") is Language.EN
    assert chosen("xx", "zh-Hant", "en") is Language.ZH_HANT  # an unknown ask is ignored
    assert chosen("", "garbage", "en-US") is Language.EN


@given(st.text(max_size=600))
def test_any_header_gives_one_of_ours(header: str) -> None:
    assert preferred(header) in set(Language)


def test_the_default_is_traditional_chinese() -> None:
    assert DEFAULT is Language.ZH_HANT
    assert Language.from_tag("zh-HK") is Language.ZH_HANT
    assert Language.from_tag("en_US") is Language.EN
    assert Language.from_tag("ja") is None
