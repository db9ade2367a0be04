"""The settings for keys, personal data, rate limits, proxies and the negative cache."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path

import pytest

from logistic.settings import ConfigurationError, RateLimit, Settings

HOME = "/srv/logistic"


def _settings(**env: str) -> Settings:
    return Settings.from_environ({"LOGISTIC_HOME": HOME, **env})


def test_the_defaults() -> None:
    settings = _settings()
    assert settings.api_keys_file == Path(HOME) / "api-keys"
    assert settings.pii_full is False
    assert settings.rate_limit == RateLimit(120, timedelta(minutes=1))
    assert settings.trusted_proxies == ()
    assert settings.negative_cache_ttl == timedelta(seconds=60)


def test_each_can_be_set() -> None:
    settings = _settings(
        LOGISTIC_API_KEYS_FILE="/etc/logistic/keys",
        LOGISTIC_PII="full",
        LOGISTIC_RATE_LIMIT="600/minute",
        LOGISTIC_TRUSTED_PROXIES="10.0.0.1, 172.16.0.0/12,::1",
        LOGISTIC_NEGATIVE_CACHE_TTL="5",
    )
    assert settings.api_keys_file == Path("/etc/logistic/keys")
    assert settings.pii_full is True
    assert settings.rate_limit == RateLimit(600, timedelta(minutes=1))
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.1"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("::1"),
    )
    assert settings.negative_cache_ttl == timedelta(seconds=5)


def test_switching_off() -> None:
    settings = _settings(LOGISTIC_RATE_LIMIT="off", LOGISTIC_NEGATIVE_CACHE_TTL="0")
    assert settings.rate_limit is None
    assert settings.negative_cache_ttl == timedelta(0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOGISTIC_PII", "partial"),
        ("LOGISTIC_RATE_LIMIT", "120"),
        ("LOGISTIC_RATE_LIMIT", "0/minute"),
        ("LOGISTIC_RATE_LIMIT", "10/day"),
        ("LOGISTIC_TRUSTED_PROXIES", "10.0.0.1,nginx"),
        ("LOGISTIC_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("LOGISTIC_NEGATIVE_CACHE_TTL", "-1"),
        ("LOGISTIC_NEGATIVE_CACHE_TTL", "1.5"),
    ],
)
def test_a_malformed_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        _settings(**{variable: value})


def test_the_embedded_default_is_always_one_process() -> None:
    # Its cache and rate-limit counters live in the process: several would not share them.
    assert _settings(LOGISTIC_WORKERS="4").workers == 1
    server = _settings(
        LOGISTIC_WORKERS="4", LOGISTIC_DATABASE_URL="mysql+pymysql://u:p@db/logistic"
    )
    assert server.workers == 4
