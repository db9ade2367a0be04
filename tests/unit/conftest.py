from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient

from logistic.container import Container, memory_container
from logistic.entrypoints.http import create_app
from tests.unit import isolation

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)

# Hypothesis keeps no example database on disk: the unit tier writes no file.
hypothesis.settings.register_profile("no-disk", database=None)
hypothesis.settings.load_profile("no-disk")


@pytest.fixture(autouse=True)
def no_processes_connections_or_writes() -> Iterator[None]:
    isolation.armed = True
    try:
        yield
    finally:
        isolation.armed = False


@pytest.fixture
def container() -> Container:
    return memory_container(now=NOW)


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
