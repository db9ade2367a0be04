"""`logistic scheduler` started while its S3 server is down: it runs, says it is not ready,
and publishes the due report once the server is back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from tests.integration.private_s3 import AWS_TEST_ENVIRONMENT, S3Server, private_s3
from tests.integration.servers import stop_gracefully

LOGISTIC = Path(sys.executable).with_name("logistic")


def _environment(home: Path, server: S3Server) -> dict[str, str]:
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("LOGISTIC", "AWS"))
    }
    return {
        **inherited,
        **AWS_TEST_ENVIRONMENT,
        "LOGISTIC_HOME": str(home),
        "LOGISTIC_S3_BUCKET": "reports",
        "LOGISTIC_S3_ENDPOINT_URL": server.url,
        "LOGISTIC_S3_REGION": "us-east-1",
    }


@pytest.mark.s3
@pytest.mark.slow
def test_the_scheduler_waits_for_a_store_that_is_down(tmp_path: Path) -> None:
    with private_s3(tmp_path) as server:
        env = _environment(tmp_path, server)
        subprocess.run([LOGISTIC, "migrate"], env=env, capture_output=True, timeout=60, check=True)
        server.stop()
        log = tmp_path / "scheduler.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [LOGISTIC, "scheduler"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            deadline = time.monotonic() + 20
            while "scheduler not ready" not in log.read_text():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            time.sleep(1)
            assert process.poll() is None, log.read_text()
            server.start()
            client = boto3.client(
                "s3",
                endpoint_url=server.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
            client.create_bucket(Bucket="reports")
            deadline = time.monotonic() + 30
            while not client.list_objects_v2(Bucket="reports").get("KeyCount"):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        finally:
            code = stop_gracefully(process)
    assert code == 0, log.read_text()
    assert "published" in log.read_text()
