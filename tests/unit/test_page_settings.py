"""LOGISTIC_PAGE_REFRESH: how often an open tracking page asks for news, or never."""

from __future__ import annotations

from datetime import timedelta

import pytest

from logistic.container import memory_container
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.settings import ConfigurationError, Settings
from tests.unit.conftest import NOW
from tests.unit.scans import shipment_with


def _settings(**env: str) -> Settings:
    return Settings.from_environ({"LOGISTIC_HOME": "/nonexistent", **env})


def test_thirty_seconds_by_default_and_zero_for_never() -> None:
    assert _settings().page_refresh == timedelta(seconds=30)
    assert _settings(LOGISTIC_PAGE_REFRESH="0").page_refresh == timedelta(0)


@pytest.mark.parametrize("raw", ["-1", "1.5", "soon", "３"])
def test_a_malformed_interval_stops_the_service_naming_the_variable(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="LOGISTIC_PAGE_REFRESH"):
        _settings(LOGISTIC_PAGE_REFRESH=raw)


@pytest.mark.parametrize(("raw", "shown"), [("45", "45"), ("0", "0")])
def test_the_page_tells_its_script_the_interval(raw: str, shown: str) -> None:
    container = memory_container(settings=_settings(LOGISTIC_PAGE_REFRESH=raw), now=NOW)
    sno = shipment_with(container, [Status.CREATED, Status.PACKAGE_RECEIVED])
    body = create_app(container).test_client().get(f"/track/{sno}").get_data(as_text=True)
    assert f'data-refresh="{shown}"' in body
    assert ("data-refresh-note" in body) == (raw != "0")


def test_a_delivered_parcel_is_not_polled() -> None:
    container = memory_container(settings=_settings(), now=NOW)
    history = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT,
               Status.OUT_FOR_DELIVERY, Status.DELIVERED]  # fmt: skip
    sno = shipment_with(container, history)
    body = create_app(container).test_client().get(f"/track/{sno}").get_data(as_text=True)
    assert 'data-refresh="0"' in body
