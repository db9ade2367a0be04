"""A server worker loads no library it rarely needs: each one costs every worker its memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# urllib3 is the webhook dispatcher's HTTP client (and botocore's): `logistic dispatcher`
# builds it, not the API.
RARELY_NEEDED = {"boto3", "botocore", "faker", "alembic", "mako", "flask_swagger_ui", "urllib3"}
# As `logistic serve` runs: the master imports the command, and each worker loads the app
# with Server.load (its container's resources built) and answers.
WORKER = """
import json, os, sys
import logistic.entrypoints.cli
from logistic.entrypoints.server import Server
from logistic.settings import Settings
app = Server(Settings.from_environ(os.environ)).load()
assert app.test_client().get('/query?sno=1').status_code == 404
app.extensions['logistic'].shutdown_resources()
print(json.dumps(sorted(sys.modules)))
"""


def _worker_modules(env: dict[str, str]) -> set[str]:
    migrate = [sys.executable, "-m", "logistic.entrypoints.cli", "migrate"]
    subprocess.run(migrate, env=env, capture_output=True, check=True)
    done = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout))


def test_a_server_worker_loads_without_the_libraries_only_some_commands_need(
    tmp_path: Path,
) -> None:
    loaded = _worker_modules({**os.environ, "LOGISTIC_HOME": str(tmp_path)})

    assert {name.split(".")[0] for name in loaded} & RARELY_NEEDED == set()


@pytest.mark.mariadb
def test_a_server_worker_on_mariadb_loads_no_sqlite_dialect(
    tmp_path: Path, fresh_mariadb_url: str
) -> None:
    env = {**os.environ, "LOGISTIC_HOME": str(tmp_path), "LOGISTIC_DATABASE_URL": fresh_mariadb_url}
    loaded = _worker_modules(env)

    assert "sqlalchemy.dialects.mysql" in loaded
    assert "sqlalchemy.dialects.sqlite" not in loaded
    assert {name.split(".")[0] for name in loaded} & RARELY_NEEDED == set()
