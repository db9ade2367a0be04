"""`logistic ingest`: a file of scans through the service, on the embedded profile."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from logistic.container import Container
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.status import Status
from logistic.entrypoints.cli import logistic
from logistic.settings import Settings
from tests.unit.scans import shipment_with, statuses

C, PR, IT = Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT


def _environment(home: Path) -> dict[str, str | None]:
    # The developer's own LOGISTIC_* settings must not reach the command.
    unset: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("LOGISTIC")
    }
    return {**unset, "LOGISTIC_HOME": str(home), "LOGISTIC_LOG_LEVEL": "WARNING"}


def _container(home: Path) -> Container:
    container = Container(settings=Settings.from_environ({"LOGISTIC_HOME": str(home)}))
    container.upgrade()
    container.location_catalog().sync(LOGISTICS_CENTERS)
    return container


def _line(sno: Any, status: Status, minutes_ago: int, key: str) -> str:
    return json.dumps(
        {
            "sno": sno,
            "status": status.value,
            "location_id": 4,
            "occurred_at": _now_minus(minutes_ago),
            "idempotency_key": key,
        }
    )


def _now_minus(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def test_a_file_is_applied_bad_lines_reported_by_number_and_skipped(tmp_path: Path) -> None:
    container = _container(tmp_path)
    first, second = shipment_with(container, [C]), shipment_with(container, [C])
    lines = [
        _line(first, PR, 20, "a-1"),
        "",
        "{not json",
        _line(first, IT, 10, "a-2"),
        _line(999_999, PR, 10, "x-1"),
        _line(second, PR, 10, "b-1"),
        json.dumps({"sno": second, "location_id": 4}),
        _line(second, Status.DELIVERED, 5, "b-2"),
    ]
    events = tmp_path / "scans.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")

    ran = CliRunner().invoke(logistic, ["ingest", str(events)], env=_environment(tmp_path))

    assert ran.exit_code == 1, ran.output
    assert ran.stdout == "3 events applied, 0 applied before, 4 lines skipped\n"
    reported = [line for line in ran.stderr.splitlines() if line.startswith("line ")]
    assert reported == [
        "line 3: skipped: not a JSON object",
        "line 7: skipped: status is required, one of: " + ", ".join(s.value for s in Status),
        "line 5: skipped: sno 999999: no shipment with sno 999999 (404)",
        f"line 8: skipped: sno {second}: Delivered cannot follow Package Received (409)",
    ]
    assert "ingesting: 8/8 (100%)" in ran.stderr
    assert statuses(container, first) == [C, PR, IT]
    assert statuses(container, second) == [C, PR]

    # The same lines again, from standard input: those applied are not applied twice.
    again = CliRunner().invoke(
        logistic, ["ingest", "-"], input="\n".join(lines), env=_environment(tmp_path)
    )

    assert again.exit_code == 1, again.output
    assert again.stdout == "0 events applied, 3 applied before, 4 lines skipped\n"
    assert statuses(container, first) == [C, PR, IT]
    container.shutdown_resources()


def test_a_clean_file_exits_0(tmp_path: Path) -> None:
    container = _container(tmp_path)
    sno = shipment_with(container, [C])
    events = tmp_path / "scans.jsonl"
    events.write_text(_line(sno, PR, 5, "k") + "\n", encoding="utf-8")

    ran = CliRunner().invoke(logistic, ["ingest", str(events)], env=_environment(tmp_path))

    assert ran.exit_code == 0, ran.output
    assert ran.stdout == "1 events applied, 0 applied before, 0 lines skipped\n"
    assert statuses(container, sno) == [C, PR]
    container.shutdown_resources()
