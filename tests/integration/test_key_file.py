"""API keys in the data directory: `logistic keys create`, the file of digests, and reloading.

What every ApiKeys adapter promises is in test_api_keys_contract.py; here, the file's own.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from logistic.adapters.key_file import KeyFile
from logistic.domain.access import Scope, key_digest
from logistic.domain.errors import StorageUnavailable, Unauthorized
from logistic.ports.api_keys import StoredKey
from logistic.services.access import Access

LOGISTIC = Path(sys.executable).with_name("logistic")


def _keys_create(env: dict[str, str], *scopes: str) -> subprocess.CompletedProcess[str]:
    arguments = [argument for scope in scopes for argument in ("--scope", scope)]
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("LOGISTIC")}
    return subprocess.run(
        [str(LOGISTIC), "keys", "create", *arguments],
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_create_prints_the_key_once_and_stores_only_its_digest(tmp_path: Path) -> None:
    done = _keys_create({"LOGISTIC_HOME": str(tmp_path)}, "events:write", "pii:read")

    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert key.startswith("lgk_")
    stored = tmp_path / "api-keys"
    text = stored.read_text()
    assert key not in text
    assert f"{key_digest(key)} events:write,pii:read" in text
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    caller = Access(KeyFile(stored)).identify(key)
    assert caller.scopes == {Scope.EVENTS_WRITE, Scope.PII_READ}


def test_the_file_can_be_put_elsewhere(tmp_path: Path) -> None:
    elsewhere = tmp_path / "secrets" / "keys.txt"
    env = {"LOGISTIC_HOME": str(tmp_path / "home"), "LOGISTIC_API_KEYS_FILE": str(elsewhere)}
    first = _keys_create(env, "fake:write").stdout.strip()
    second = _keys_create(env, "reports:read").stdout.strip()

    access = Access(KeyFile(elsewhere))
    assert access.identify(first).scopes == {Scope.FAKE_WRITE}
    assert access.identify(second).scopes == {Scope.REPORTS_READ}
    assert not (tmp_path / "home" / "api-keys").exists()


@pytest.mark.parametrize("arguments", [(), ("nope",)])
def test_keys_create_needs_known_scopes(tmp_path: Path, arguments: tuple[str, ...]) -> None:
    done = _keys_create({"LOGISTIC_HOME": str(tmp_path)}, *arguments)
    assert done.returncode == 2
    assert "--scope" in done.stderr
    assert not (tmp_path / "api-keys").exists()


def test_a_running_service_sees_a_new_key_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "api-keys"
    access = Access(KeyFile(path))
    assert not access.configured()
    key = Access(KeyFile(path)).create_key([Scope.EVENTS_WRITE])  # another process, in effect
    assert access.identify(key).scopes == {Scope.EVENTS_WRITE}


def test_a_removed_line_revokes_its_key(tmp_path: Path) -> None:
    path = tmp_path / "api-keys"
    access = Access(KeyFile(path))
    kept, revoked = (access.create_key([Scope.PII_READ]) for _ in range(2))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(line for line in lines if key_digest(revoked) not in line))

    assert access.identify(kept).authenticated
    with pytest.raises(Unauthorized):
        access.identify(revoked)


@pytest.mark.parametrize(
    "line",
    ["not-a-digest events:write", f"{'a' * 64}", f"{'a' * 64} events:write,root", f"{'A' * 64} x"],
)
def test_a_damaged_file_fails_closed(tmp_path: Path, line: str) -> None:
    path = tmp_path / "api-keys"
    KeyFile(path).add(StoredKey("b" * 64, frozenset({Scope.FAKE_WRITE})))
    with path.open("a") as out:
        out.write(line + "\n")
    with pytest.raises(StorageUnavailable) as raised:
        KeyFile(path).all()
    assert str(tmp_path) not in str(raised.value)
    assert "line 3" in str(raised.value)


def test_comments_and_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "api-keys"
    path.write_text(f"# ops team\n\n{'c' * 64} events:write  # scanner 7\n")
    assert KeyFile(path).all() == (StoredKey("c" * 64, frozenset({Scope.EVENTS_WRITE})),)
