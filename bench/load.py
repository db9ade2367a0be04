"""The load the bench puts on the service: wrk runs with the lua scripts of bench/wrk
(their output read into figures), and requests timed one at a time."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.figures import Bound, Figure, FigureTable
from bench.processes import ROOT

WRK_SCRIPTS = ROOT / "bench" / "wrk"

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class WrkRun:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("the bench drives HTTP with wrk: apt-get install wrk")


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, script: str, args: Sequence[str], connections: int, seconds: int) -> WrkRun:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(WRK_SCRIPTS / script), url, "--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"\s50%\s+([0-9.]+\w+)", output).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+([0-9.]+\w+)", output).group(1)  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    if socket_errors:
        print(f"    wrk: {socket_errors.group(0)}", flush=True)
    return WrkRun(rps, _ms(p50), _ms(p99), int(errors.group(1)) if errors else 0)


def record(figure: Figure, run: WrkRun) -> None:
    """`run` added to `figure`, and printed."""
    figure.values.append(run.rps)
    figure.p50.append(run.p50_ms)
    figure.p99.append(run.p99_ms)
    errors = f", {run.errors} non-2xx" if run.errors else ""
    print(
        f"  {figure.name}: {run.rps:,.0f} req/s, p50 {run.p50_ms:.2f} ms, "
        f"p99 {run.p99_ms:.2f} ms{errors}",
        flush=True,
    )


def latencies(table: FigureTable, port: int, key: str) -> None:
    """/fake?num=1, /fake?num=100 and POST events, one request at a time: median ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = {"Authorization": f"Bearer {key}"}

    def timed(method: str, path: str, body: bytes | None = None) -> tuple[float, bytes]:
        headers = {**auth, "Content-Type": "application/json"} if body else auth
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status >= 300:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return elapsed, data

    for num, count in ((1, 40), (100, 10)):
        figure = table.figure(f"/fake?num={num} latency", "ms median")
        if num == 100:
            figure.target = "≤ 40 ms"
            figure.bound = Bound(40)
        figure.values.append(
            statistics.median(timed("GET", f"/fake?num={num}")[0] for _ in range(count))
        )
    _, data = timed("GET", "/fake?num=100")
    in_transit = [
        order["sno"]
        for order in json.loads(data)["data"]
        if (order["tracking_status"] or {}).get("tracking_status") == "In Transit"
    ]
    if not in_transit:
        table.notes.append("no order in transit among 100 new ones: POST not measured")
        return
    post = table.figure("POST /shipments/<sno>/events latency", "ms median")
    body = json.dumps({"status": "In Transit", "location_id": 1}).encode()
    post.values.append(
        statistics.median(
            timed("POST", f"/shipments/{in_transit[i % len(in_transit)]}/events", body)[0]
            for i in range(40)
        )
    )
    connection.close()
