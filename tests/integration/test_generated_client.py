"""An integrator's client: generated from the running server's /openapi.json with
openapi-python-client, then used against that server (lookups, a 304, a batch, an event,
demo orders and an error), in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.servers import create_key, running_service

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
SCOPES = ("events:write", "fake:write", "reports:read", "pii:read")

# What the integrator writes: every call through the generated modules and models.
USE = """
import json, sys
from logistic_client import AuthenticatedClient, Client
from logistic_client.api.events import record_event
from logistic_client.api.operations import health, make_fake_orders
from logistic_client.api.tracking import get_tracking, look_up_many
from logistic_client.models import FakeOrders, LookupRequest, Scan, Status

url, key = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=url, token=key)
fake = make_fake_orders.sync(client=client, num=2)
assert isinstance(fake, FakeOrders), fake
sno = fake.data[0].sno
tracked = get_tracking.sync_detailed(client=client, sno=str(sno))
again = get_tracking.sync_detailed(
    client=client, sno=str(sno), if_none_match=tracked.headers["etag"]
)
batch = look_up_many.sync(client=client, body=LookupRequest(snos=[str(sno), 999999999, "x"]))
event = record_event.sync_detailed(
    client=client, sno=str(sno), body=Scan(status=Status.RETURNED_TO_SENDER, location_id=3)
)
wrong = get_tracking.sync_detailed(client=Client(base_url=url), sno="12abc")
print(json.dumps({
    "health": health.sync(client=client).status,
    "tracked": [tracked.status_code, type(tracked.parsed).__name__, tracked.parsed.sno],
    "again": again.status_code,
    "batch": [type(item).__name__ for item in batch.data],
    "event": [event.status_code, type(event.parsed).__name__],
    "wrong": [wrong.status_code, wrong.parsed.error.code],
    "sno": sno,
}))
"""


def test_a_client_generated_from_the_contract_works_against_the_server(tmp_path: Path) -> None:
    with running_service({}, tmp_path) as service:
        key = create_key(service, *SCOPES)
        generated = subprocess.run(
            [str(GENERATOR), "generate", "--url", f"{service.url}/openapi.json",
             "--meta", "none", "--output-path", str(tmp_path / "logistic_client")],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert (tmp_path / "logistic_client" / "api").is_dir(), generated.stdout + generated.stderr
        used = subprocess.run(
            [sys.executable, "-c", USE, service.url, key],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
        )  # fmt: skip
        assert used.returncode == 0, used.stderr[-3000:]

    results = json.loads(used.stdout)
    sno = results["sno"]
    assert results["health"] == "ok"
    assert results["tracked"] == [200, "Tracking", str(sno)]
    assert results["again"] == 304
    assert results["batch"] == ["Tracking", "LookupFailure", "LookupFailure"]
    # Returned to Sender may follow some statuses and not others: either is the contract's.
    assert results["event"] in ([201, "Tracking"], [409, "Error"])
    assert results["wrong"] == [400, 400]
