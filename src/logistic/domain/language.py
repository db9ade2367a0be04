"""The languages the tracking pages speak, and which one a reader gets."""

from __future__ import annotations

import enum
import functools


class Language(enum.StrEnum):
    """A page language, named by its BCP 47 tag (as `<html lang>` and `Content-Language` say)."""

    ZH_HANT = "zh-Hant"
    EN = "en"

    @classmethod
    def from_tag(cls, tag: str | None) -> Language | None:
        """The language a tag asks for: any Chinese is Traditional Chinese here (zh, zh-TW,
        zh-Hant, zh-HK), any English is English; None for anything else."""
        if not tag:
            return None
        primary = tag.strip().split("-", 1)[0].split("_", 1)[0].lower()
        if primary == "zh":
            return cls.ZH_HANT
        if primary == "en":
            return cls.EN
        return None


DEFAULT = Language.ZH_HANT
# An Accept-Language header longer than this is read no further: no browser sends one.
MAX_ACCEPT_LANGUAGE = 512


# Browsers send a handful of distinct headers: each is read once (a page hit's quickest path).
@functools.lru_cache(maxsize=512)
def preferred(accept_language: str | None) -> Language:
    """The language an Accept-Language header prefers, among ours; Chinese when it names
    neither, or names both equally (the first one wins a tie)."""
    best: Language | None = None
    best_weight = 0.0
    for item in (accept_language or "")[:MAX_ACCEPT_LANGUAGE].split(","):
        tag, _, parameters = item.partition(";")
        language = Language.from_tag(tag)
        if language is None:
            continue
        weight = _weight(parameters)
        if weight > best_weight:
            best, best_weight = language, weight
    return best or DEFAULT


def _weight(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def chosen(asked: str | None, remembered: str | None, accept_language: str | None) -> Language:
    """The page's language: asked for (`?lang=`), else remembered (the cookie), else the
    browser's preference."""
    return Language.from_tag(asked) or Language.from_tag(remembered) or preferred(accept_language)
