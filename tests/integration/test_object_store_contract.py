"""One contract for the ObjectStore port, run against memory, a local directory and S3.

The S3 runs talk HTTP to moto's standalone server (see the `s3_endpoint` fixture),
each test in a bucket of its own.
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from logistic.adapters.local_store import LocalDirectoryStore
from logistic.adapters.memory_store import MemoryObjectStore
from logistic.adapters.s3_store import S3ObjectStore, s3_client
from logistic.domain.errors import InvalidInput, ObjectStoreError, ReportNotFound
from logistic.ports.object_store import ObjectStore
from tests.services import free_port

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

JSON = "application/json"
KEY = "reports/2026/11/25/0800.json"


def _test_credentials(patch: pytest.MonkeyPatch) -> None:
    """Credentials for the standard chain to find (moto accepts any)."""
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        patch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Iterator[S3Client]:
    """One client for the module: building one takes a good part of a second."""
    with pytest.MonkeyPatch.context() as patch:
        _test_credentials(patch)
        yield s3_client(s3_endpoint, "us-east-1")


def _bucket_name() -> str:
    return f"reports-{uuid.uuid4().hex[:12]}"


def _s3_store(client: S3Client, prefix: str = "", create: bool = True) -> S3ObjectStore:
    bucket = _bucket_name()
    if create:
        client.create_bucket(Bucket=bucket)
    return S3ObjectStore(client, bucket, prefix=prefix)


@pytest.fixture(
    params=[
        "memory",
        "local",
        pytest.param("s3", marks=pytest.mark.s3),
        pytest.param("s3-prefixed", marks=pytest.mark.s3),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    if request.param == "local":
        return LocalDirectoryStore(tmp_path)
    client: S3Client = request.getfixturevalue("s3")
    return _s3_store(client, prefix="tenant/" if request.param == "s3-prefixed" else "")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        '{"title": "臺北物流中心"}\n'.encode(),
        bytes(range(256)),
        random.Random(3).randbytes(1_500_000),
    ],
    ids=["empty", "utf8", "every-byte", "large"],
)
def test_get_returns_exactly_the_bytes_put(store: ObjectStore, body: bytes) -> None:
    store.put(KEY, body, JSON, {})

    assert store.get(KEY) == body


def test_metadata_round_trips(store: ObjectStore) -> None:
    metadata = {
        "sha256": "ab" * 32,
        "slot": "2026-11-25T0800",
        "generated-at": "2026-11-25T08:00:03+08:00",
        "timezone": "Asia/Taipei",
    }

    store.put(KEY, b"{}", JSON, metadata)

    assert store.metadata(KEY) == metadata


def test_an_object_without_metadata_has_none(store: ObjectStore) -> None:
    store.put(KEY, b"{}", JSON, {})

    assert store.metadata(KEY) == {}


def test_put_replaces_the_body_and_the_metadata(store: ObjectStore) -> None:
    store.put(KEY, b"old", JSON, {"sha256": "old"})

    store.put(KEY, b"new", JSON, {"sha256": "new"})

    assert store.get(KEY) == b"new"
    assert store.metadata(KEY) == {"sha256": "new"}
    assert store.list("reports/") == [KEY]


def test_exists_tells_stored_keys_only(store: ObjectStore) -> None:
    assert not store.exists(KEY)

    store.put(KEY, b"{}", JSON, {})

    assert store.exists(KEY)
    assert not store.exists("reports/2026/11/25/0800.csv")
    assert not store.exists("reports/2026/11/25")


def test_list_gives_the_keys_under_a_prefix_sorted(store: ObjectStore) -> None:
    keys = [
        "reports/2026/11/25/0000.json",
        "reports/2026/11/25/0800.csv",
        "reports/2026/11/25/0800.json",
        "reports/2026/11/25/1600.json",
        "reports/2026/11/26/0000.json",
        "reports/2027/01/01/0000.json",
    ]
    for key in random.Random(5).sample(keys, k=len(keys)):
        store.put(key, b"{}", JSON, {})

    assert store.list("reports/2026/11/25/") == keys[:4]
    assert store.list("reports/2026/11/2") == keys[:5]
    assert store.list("reports/2026/11/25/08") == keys[1:3]
    assert store.list("") == keys
    assert store.list() == keys
    assert store.list("reports/2026/12/") == []
    assert store.list("elsewhere/") == []


def test_a_missing_object_is_report_not_found(store: ObjectStore) -> None:
    with pytest.raises(ReportNotFound) as raised:
        store.get(KEY)
    assert raised.value.key == KEY
    with pytest.raises(ReportNotFound):
        store.metadata(KEY)


def test_a_healthy_store_passes_the_check_and_lists_no_probe(store: ObjectStore) -> None:
    store.check()
    store.check()

    assert store.list() == []


@pytest.mark.parametrize(
    "key", ["", "../escape.json", "/etc/passwd", "a//b", "a/./b", "a/../b", ".hidden", "a\\b"]
)
def test_invalid_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put(key, b"{}", JSON, {})
    with pytest.raises(InvalidInput):
        store.get(key)
    with pytest.raises(InvalidInput):
        store.exists(key)


@pytest.mark.parametrize(
    "metadata", [{"Sha256": "x"}, {"generated_at": "x"}, {"title": "臺北"}, {"": "x"}]
)
def test_metadata_that_would_not_round_trip_is_refused(
    store: ObjectStore, metadata: dict[str, str]
) -> None:
    with pytest.raises(InvalidInput):
        store.put(KEY, b"{}", JSON, metadata)
    assert not store.exists(KEY)


@pytest.fixture(
    params=[
        "local",
        pytest.param("s3", marks=pytest.mark.s3),
        "s3-unreachable",
    ]
)
def missing_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[ObjectStore, str]:
    """A store whose directory or bucket is not there, and a word the error must name."""
    if request.param == "local":
        root = tmp_path / "absent"
        return LocalDirectoryStore(root), str(root)
    if request.param == "s3":
        return _s3_store(request.getfixturevalue("s3"), create=False), "does not exist"
    with pytest.MonkeyPatch.context() as patch:
        _test_credentials(patch)
        client = s3_client(f"http://127.0.0.1:{free_port()}", "us-east-1", max_attempts=1)
    return S3ObjectStore(client, _bucket_name()), "cannot be reached"


def test_check_says_clearly_what_is_missing(missing_store: tuple[ObjectStore, str]) -> None:
    store, expected = missing_store

    with pytest.raises(ObjectStoreError) as raised:
        store.check()

    assert expected in str(raised.value)


def test_a_missing_store_fails_every_call_with_object_store_error(
    missing_store: tuple[ObjectStore, str],
) -> None:
    store, _ = missing_store

    with pytest.raises(ObjectStoreError):
        store.put(KEY, b"{}", JSON, {})
    with pytest.raises(ObjectStoreError):
        store.list("reports/")
    with pytest.raises(ObjectStoreError):
        store.get(KEY)


@pytest.mark.s3
def test_s3_prefixes_keep_stores_apart(s3: S3Client) -> None:
    bucket = _bucket_name()
    s3.create_bucket(Bucket=bucket)
    first = S3ObjectStore(s3, bucket, prefix="one")
    second = S3ObjectStore(s3, bucket, prefix="two/")

    first.put(KEY, b"1", JSON, {})

    assert first.list() == [KEY]
    assert second.list() == []
    assert not second.exists(KEY)


@pytest.mark.s3
def test_s3_driver_errors_keep_their_cause(s3: S3Client) -> None:
    store = _s3_store(s3, create=False)

    with pytest.raises(ObjectStoreError) as raised:
        store.get(KEY)

    assert "bucket does not exist" in str(raised.value)
    assert raised.value.__cause__ is not None


class _CrashBeforeRename:
    """Stands in for os.replace: the process "dies" before the rename."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *_: object) -> None:
        self.calls += 1
        raise OSError("killed before the rename")


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def local(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path)


def test_local_a_crash_before_the_rename_leaves_no_object(
    local: LocalDirectoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = _CrashBeforeRename()
    monkeypatch.setattr(os, "replace", crash)

    with pytest.raises(ObjectStoreError):
        local.put(KEY, b'{"half": "written"}', JSON, {"sha256": "x"})

    assert crash.calls == 1
    assert not local.exists(KEY)
    assert local.list() == []
    assert _files(tmp_path) == []


def test_local_a_crash_during_an_overwrite_keeps_the_old_object(
    local: LocalDirectoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    local.put(KEY, b"old", JSON, {"sha256": "old"})
    monkeypatch.setattr(os, "replace", _CrashBeforeRename())

    with pytest.raises(ObjectStoreError):
        local.put(KEY, b"new", JSON, {"sha256": "new"})

    assert local.get(KEY) == b"old"
    assert local.metadata(KEY) == {"sha256": "old"}


def test_local_leftovers_of_a_killed_writer_stay_invisible(
    local: LocalDirectoryStore, tmp_path: Path
) -> None:
    local.put(KEY, b"{}", JSON, {})
    leftover = tmp_path / "reports/2026/11/25/.1600.json.k1ll3d.tmp"
    leftover.write_bytes(b'{"half":')

    assert local.list() == [KEY]
    assert not local.exists("reports/2026/11/25/1600.json")


def test_local_keys_cannot_escape_the_root(local: LocalDirectoryStore, tmp_path: Path) -> None:
    for key in ("../outside.json", "reports/../../outside.json", "/tmp/outside.json"):
        with pytest.raises(InvalidInput):
            local.put(key, b"{}", JSON, {})
    with pytest.raises(InvalidInput):
        local.list("../")

    assert not (tmp_path.parent / "outside.json").exists()
    assert _files(tmp_path) == []


def test_local_objects_are_plain_files_at_their_keys(
    local: LocalDirectoryStore, tmp_path: Path
) -> None:
    local.put(KEY, b'{"ok": true}', JSON, {"sha256": "x"})

    assert (tmp_path / KEY).read_bytes() == b'{"ok": true}'
