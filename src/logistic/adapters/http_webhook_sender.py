"""Webhook messages posted with urllib3: no redirects followed, no retries, one timeout.

urllib3 rather than httpx: with it the dispatcher delivers more messages a second on
the same CPU (docs/performance.md, "Webhooks").
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import urllib3
from urllib3.exceptions import HTTPError, TimeoutError

from logistic.domain.webhook import ANSWER_EXCERPT, Attempt

# Hosts whose connections are kept between attempts (each up to `connections`).
KEPT_HOSTS = 100


class HttpWebhookSender:
    """One pool of kept-alive connections shared by the dispatcher's workers (a
    PoolManager is thread-safe)."""

    def __init__(
        self, clock: Callable[[], datetime], timeout_s: float = 10.0, connections: int = 64
    ) -> None:
        self._clock = clock
        self._pool = urllib3.PoolManager(
            num_pools=KEPT_HOSTS,
            maxsize=connections,
            retries=False,
            timeout=urllib3.Timeout(total=timeout_s),
            headers={"user-agent": "logistic-webhooks/1"},
        )

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        at = self._clock()
        started = time.perf_counter()
        try:
            answer = self._pool.request(
                "POST", url, body=body, headers=dict(headers), redirect=False, preload_content=False
            )
            try:
                excerpt = answer.read(ANSWER_EXCERPT)
                code: int | None = answer.status
                # A character the cut split is left out, not shown as a broken one.
                text = codecs.getincrementaldecoder("utf-8")("replace").decode(excerpt)
                if not (answer.closed or answer.length_remaining == 0):
                    # A longer answer than is kept: the connection goes rather than
                    # reading the rest of it.
                    answer.close()
            finally:
                answer.release_conn()
        except TimeoutError:
            code, text = None, "timed out"
        except HTTPError as error:
            code, text = None, f"{type(error).__name__}: {error}"[:ANSWER_EXCERPT]
        latency_ms = int((time.perf_counter() - started) * 1000)
        return Attempt(at, code, latency_ms, text)

    def close(self) -> None:
        self._pool.clear()
