"""LOGISTIC_SECRET_KEY: what signs the dashboard's session cookie."""

from __future__ import annotations

import pytest

from logistic.container import memory_container
from logistic.entrypoints.http import create_app
from logistic.settings import ConfigurationError, Settings

SECRET = "s" * 32


def _settings(**env: str) -> Settings:
    return Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})


def test_unset_leaves_it_to_the_secret_file() -> None:
    assert _settings().secret_key is None
    assert _settings(LOGISTIC_SECRET_KEY="").secret_key is None


def test_a_secret_of_32_characters_or_more_is_taken() -> None:
    assert _settings(LOGISTIC_SECRET_KEY=SECRET).secret_key == SECRET


def test_a_short_secret_stops_the_start_with_a_way_to_make_one() -> None:
    with pytest.raises(ConfigurationError, match=r"LOGISTIC_SECRET_KEY.*token_hex"):
        _settings(LOGISTIC_SECRET_KEY="changeme")


def test_the_setting_signs_the_session_of_the_app() -> None:
    container = memory_container(_settings(LOGISTIC_SECRET_KEY=SECRET))
    container.session_secret.reset_override()
    assert create_app(container).secret_key == SECRET
