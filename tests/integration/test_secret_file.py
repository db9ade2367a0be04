"""The session secret kept in a file: made once, by one of the processes that race for it,
readable by its owner only, and the same for every process of the host."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from logistic.adapters.secret_file import SECRET_BYTES, stored_secret
from logistic.domain.errors import StorageUnavailable


def test_the_first_call_makes_it_and_the_next_ones_read_it(tmp_path: Path) -> None:
    path = tmp_path / "home" / "secret-key"
    made = stored_secret(path)
    assert len(made) == 2 * SECRET_BYTES
    assert path.stat().st_mode & 0o777 == 0o600
    assert stored_secret(path) == made


def test_processes_racing_for_it_all_get_the_same(tmp_path: Path) -> None:
    path = tmp_path / "secret-key"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        secrets = pool.map(stored_secret, [path] * 8)
    assert len(set(secrets)) == 1
    assert path.read_text().strip() == secrets[0]


def test_a_file_without_a_secret_is_refused_not_used(tmp_path: Path) -> None:
    path = tmp_path / "secret-key"
    path.write_text("short\n")
    with pytest.raises(StorageUnavailable, match="remove it"):
        stored_secret(path, wait_seconds=0.2)


def test_an_unwritable_place_is_storage_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageUnavailable, match="session secret"):
        stored_secret(blocker / "secret-key")
