from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from logistic.container import Container, memory_container
from logistic.entrypoints.http import create_app

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


@pytest.fixture
def container() -> Container:
    return memory_container(now=NOW)


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
