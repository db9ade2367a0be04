"""The report settings, and the travelling clock behind `logistic scheduler --clock-speed`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from logistic.adapters.clock import TravellingClock
from logistic.domain.errors import InvalidInput
from logistic.settings import ConfigurationError, Settings

HOME = {"LOGISTIC_HOME": "/nonexistent"}


def test_the_defaults_keep_reports_beside_the_database_in_taipei_time() -> None:
    settings = Settings.from_environ(HOME)

    assert settings.s3_bucket is None
    assert settings.s3_prefix == ""
    assert settings.report_timezone == ZoneInfo("Asia/Taipei")
    assert settings.stuck_after == timedelta(hours=72)
    assert settings.report_grace == timedelta(hours=8)
    assert settings.home == Path("/nonexistent")


def test_every_report_setting_is_read() -> None:
    settings = Settings.from_environ(
        {
            **HOME,
            "LOGISTIC_S3_BUCKET": "reports",
            "LOGISTIC_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "LOGISTIC_S3_REGION": "ap-northeast-1",
            "LOGISTIC_S3_PREFIX": "logistic/",
            "LOGISTIC_REPORT_TIMEZONE": "Europe/Paris",
            "LOGISTIC_STUCK_AFTER_HOURS": "48",
            "LOGISTIC_REPORT_GRACE_HOURS": "2",
        }
    )

    assert (settings.s3_bucket, settings.s3_endpoint_url, settings.s3_region) == (
        "reports",
        "http://127.0.0.1:9000",
        "ap-northeast-1",
    )
    assert settings.s3_prefix == "logistic/"
    assert settings.report_timezone == ZoneInfo("Europe/Paris")
    assert settings.stuck_after == timedelta(hours=48)
    assert settings.report_grace == timedelta(hours=2)


def test_the_report_zone_follows_the_service_zone_unless_set() -> None:
    settings = Settings.from_environ({**HOME, "LOGISTIC_TIMEZONE": "Asia/Tokyo"})

    assert settings.report_timezone == ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOGISTIC_REPORT_TIMEZONE", "Mars/Olympus"),
        ("LOGISTIC_STUCK_AFTER_HOURS", "0"),
        ("LOGISTIC_REPORT_GRACE_HOURS", "eight"),
    ],
)
def test_a_malformed_report_setting_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_environ({**HOME, variable: value})


def test_a_travelling_clock_starts_where_told_and_runs_faster() -> None:
    start = datetime(2026, 11, 25, 7, 59, tzinfo=ZoneInfo("Asia/Taipei"))
    clock = TravellingClock(start, speed=3600)

    first = clock.now()
    time.sleep(0.05)
    later = clock.now()

    assert first.tzinfo is UTC
    assert timedelta(0) <= first - start < timedelta(minutes=1)
    assert later - first >= timedelta(seconds=0.05 * 3600)


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan")])
def test_a_travelling_clock_needs_a_positive_speed(speed: float) -> None:
    with pytest.raises(InvalidInput):
        TravellingClock(datetime(2026, 11, 25, tzinfo=UTC), speed=speed)


def test_a_travelling_clock_needs_an_aware_start() -> None:
    with pytest.raises(InvalidInput):
        TravellingClock(datetime(2026, 11, 25))
