"""A server worker loads no library it rarely needs: each one costs every worker its memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# httpx is the webhook dispatcher's HTTP client: `logistic dispatcher` builds it, not the API.
RARELY_NEEDED = ("boto3", "botocore", "faker", "alembic", "mako", "flask_swagger_ui", "httpx")


def test_a_server_worker_loads_without_the_libraries_only_some_commands_need(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LOGISTIC_HOME": str(tmp_path)}
    migrate = [sys.executable, "-m", "logistic.entrypoints.cli", "migrate"]
    subprocess.run(migrate, env=env, capture_output=True, check=True)
    # As `logistic serve` runs: the master imports the command, and each worker loads the
    # app with Server.load (its container's resources built) and answers.
    script = (
        "import os, sys\n"
        "import logistic.entrypoints.cli\n"
        "from logistic.entrypoints.server import Server\n"
        "from logistic.settings import Settings\n"
        "app = Server(Settings.from_environ(os.environ)).load()\n"
        "assert app.test_client().get('/query?sno=1').status_code == 404\n"
        "app.extensions['logistic'].shutdown_resources()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({RARELY_NEEDED!r})))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"
