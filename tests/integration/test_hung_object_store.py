"""A private S3 server paused (SIGSTOP): every S3 call ends with a clear error in bounded time.

/readyz answers within 2 s, /reports with a JSON 503 and `logistic report` with exit 1
and one line, all well within nginx's 15 s; and a readiness probe reads the bucket
instead of writing to it on every call.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from logistic.adapters.s3_store import S3ObjectStore, s3_client
from logistic.domain.errors import ObjectStoreError
from tests.integration.private_s3 import AWS_TEST_ENVIRONMENT, S3Server, private_s3
from tests.integration.servers import ServiceProcess, running_service

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOGISTIC = Path(sys.executable).with_name("logistic")
# Two attempts, each at most a 3 s read, and their backoff; a busy machine's slack.
BOUND_S = 9.0


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENVIRONMENT.items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with private_s3(tmp_path_factory.mktemp("s3")) as server:
            yield server


@pytest.fixture
def client(s3_server: S3Server) -> S3Client:
    return s3_client(s3_server.url, "us-east-1")


@pytest.fixture
def bucket(client: S3Client) -> str:
    name = f"reports-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


def test_a_paused_store_fails_a_check_in_bounded_time(
    s3_server: S3Server, client: S3Client, bucket: str
) -> None:
    store = S3ObjectStore(client, bucket)
    store.check()
    with s3_server.paused():
        started = time.monotonic()
        with pytest.raises(ObjectStoreError, match="cannot be reached"):
            store.check()
        took = time.monotonic() - started
    assert took < BOUND_S
    store.check()


def test_checks_write_the_probe_once_per_interval(client: S3Client, bucket: str) -> None:
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    store = S3ObjectStore(client, bucket)
    for _ in range(20):
        store.check()
    versions = client.list_object_versions(Bucket=bucket).get("Versions", [])
    assert len(versions) == 1


def _report(service: ServiceProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LOGISTIC), "report"],
        env=service.env,
        cwd=service.home,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_paused_store_gets_quick_clear_answers(
    s3_server: S3Server, bucket: str, tmp_path: Path
) -> None:
    env = {
        **AWS_TEST_ENVIRONMENT,
        "LOGISTIC_S3_BUCKET": bucket,
        "LOGISTIC_S3_ENDPOINT_URL": s3_server.url,
        "LOGISTIC_S3_REGION": "us-east-1",
    }
    with running_service(env, tmp_path) as service:
        assert service.get("/readyz").status == 200
        started = time.monotonic()
        assert _report(service).returncode == 0
        # What the command costs while the store answers (start-up, the database).
        baseline_seconds = time.monotonic() - started
        with s3_server.paused():
            started = time.monotonic()
            ready = service.get("/readyz")
            ready_seconds = time.monotonic() - started
            started = time.monotonic()
            listed = service.get("/reports?date=2026-11-25")
            listed_seconds = time.monotonic() - started
            started = time.monotonic()
            command = _report(service)
            command_seconds = time.monotonic() - started
        assert ready.status == 503
        assert ready_seconds < 2.0
        assert ready.json()["checks"]["object_store"].startswith("unavailable")
        assert listed.status == 503
        assert listed_seconds < BOUND_S
        assert listed.content_type.startswith("application/json")
        assert "could not list" in listed.json()["error"]["message"]
        assert command.returncode == 1
        assert command_seconds < baseline_seconds + BOUND_S
        assert command.stderr.strip().splitlines()[-1].startswith("logistic report: S3 bucket")
        assert "cannot be reached" in command.stderr
        deadline = time.monotonic() + 20
        while service.get("/readyz").status != 200:
            assert time.monotonic() < deadline, service.log()
            time.sleep(0.5)
        assert service.get("/reports?date=2026-11-25").status == 200
