"""A server worker loads no library it rarely needs: each one costs every worker its memory."""

from __future__ import annotations

import subprocess
import sys

RARELY_NEEDED = ("boto3", "botocore", "faker", "alembic", "mako", "flask_swagger_ui")


def test_the_server_and_the_app_load_without_the_libraries_only_some_commands_need() -> None:
    script = (
        "import sys\n"
        "import logistic.entrypoints.cli, logistic.entrypoints.server\n"
        "from logistic.container import memory_container\n"
        "from logistic.entrypoints.http import create_app\n"
        "create_app(memory_container()).test_client().get('/query?sno=1')\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({RARELY_NEEDED!r})))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "[]"
