"""The `logistic` commands in this process, on the embedded profile under a home of their own."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from logistic.entrypoints.cli import logistic


def _environment(home: Path) -> dict[str, str | None]:
    # The developer's own LOGISTIC_* settings must not reach these commands.
    unset: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("LOGISTIC")
    }
    return {**unset, "LOGISTIC_HOME": str(home), "LOGISTIC_LOG_LEVEL": "WARNING"}


def test_migrate_then_recount_report_what_they_did(tmp_path: Path) -> None:
    runner = CliRunner()
    migrated = runner.invoke(logistic, ["migrate"], env=_environment(tmp_path))
    recounted = runner.invoke(logistic, ["recount"], env=_environment(tmp_path))

    assert migrated.exit_code == 0, migrated.output
    assert migrated.stdout.startswith("schema up to date; ")
    assert recounted.exit_code == 0, recounted.output
    assert "0 orders counted by status and by place; 0 stored counts corrected" in recounted.stdout


def test_a_failure_of_the_service_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    refused = CliRunner().invoke(
        logistic, ["report", "--slot", "yesterday"], env=_environment(tmp_path)
    )

    assert refused.exit_code == 1
    assert refused.stderr == (
        "logistic report: a report slot looks like 2026-11-25T0800, not 'yesterday'\n"
    )
