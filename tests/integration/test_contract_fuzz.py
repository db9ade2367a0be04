"""Schemathesis against the real server (`logistic serve`): every operation of the contract,
on the embedded default and on MariaDB + Redis, with a key of every scope and without one.

The checks: no 5xx, and every status, content type, header and body as the document
promises; the stateful phase follows the document's links (a /fake order's sno into
/query, the batch lookup and an event POST; a /query ETag into If-None-Match; a listed
report into its JSON and CSV). A failure is fixed in the code or the document, never
filtered out here. `make fuzz` runs the same with more examples and a random seed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.servers import LOGISTIC, ServiceProcess, create_key, running_service

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
PHASES = "examples,coverage,fuzzing,stateful"
# Per operation, in the fuzzing phase (the others add their own cases); `make fuzz` sets more.
EXAMPLES = os.environ.get("LOGISTIC_FUZZ_EXAMPLES", "100")
# A fixed seed keeps `make test` repeatable; `make fuzz` draws one (printed in the output).
SEED = os.environ.get("LOGISTIC_FUZZ_SEED", "20")
RUN_SECONDS = 600
SCOPES = ("events:write", "fake:write", "reports:read", "pii:read", "webhooks:write")
# A limit on, so that its headers are checked too, and far above what a run sends.
ENV = {
    "LOGISTIC_RATE_LIMIT": "100000000/minute",
    "LOGISTIC_LOG_LEVEL": "WARNING",
    # The made-up hosts of POST /webhooks are not looked up in the DNS (the address
    # checks have their own tests).
    "LOGISTIC_WEBHOOK_ALLOW_PRIVATE": "on",
}


def _publish_a_report(service: ServiceProcess) -> None:
    """Today's latest slot, so that the listing's links reach a report."""
    subprocess.run(
        [str(LOGISTIC), "report"],
        env=service.env,
        cwd=service.home,
        capture_output=True,
        timeout=60,
        check=True,
    )


def _fuzz(service: ServiceProcess, key: str | None) -> None:
    command = [
        str(SCHEMATHESIS), "run", f"{service.url}/openapi.json",
        "--checks", ",".join(CHECKS),
        "--phases", PHASES,
        "--max-examples", EXAMPLES,
        "--generation-database", "none",
        "--workers", "1",
        "--request-timeout", "10",
    ]  # fmt: skip
    if SEED != "random":
        command += ["--seed", SEED]
    if key is None:
        # Not even a made-up key: the anonymous caller's view of every route.
        command += ["--generation-with-security-parameters", "false"]
    else:
        command += ["--header", f"Authorization: Bearer {key}"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        cwd=service.home,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, (
        f"schemathesis ({'with a key' if key else 'without a key'}) failed:\n"
        f"{output[-12000:]}\n--- server log ---\n{service.log()[-3000:]}"
    )
    # Cases were run, every one of them passed.
    counts = re.search(r"([0-9]+) generated, ([0-9]+) passed\s", output)
    assert counts is not None, output[-4000:]
    assert counts.group(1) == counts.group(2) != "0", output[-4000:]


def _fuzz_both_callers(service: ServiceProcess) -> None:
    _publish_a_report(service)
    _fuzz(service, create_key(service, *SCOPES))
    _fuzz(service, None)


@pytest.mark.slow
def test_the_embedded_default_keeps_the_contract(tmp_path: Path) -> None:
    with running_service(ENV, tmp_path) as service:
        _fuzz_both_callers(service)


@pytest.mark.slow
@pytest.mark.mariadb
@pytest.mark.redis
def test_mariadb_and_redis_keep_the_contract(
    tmp_path: Path, fresh_mariadb_url: str, redis_url: str, redis_prefix: str
) -> None:
    env = {
        **ENV,
        "LOGISTIC_DATABASE_URL": fresh_mariadb_url,
        "LOGISTIC_REDIS_URL": redis_url,
        "LOGISTIC_REDIS_PREFIX": redis_prefix,
    }
    with running_service(env, tmp_path) as service:
        _fuzz_both_callers(service)
