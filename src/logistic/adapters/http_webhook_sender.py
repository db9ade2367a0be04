"""Webhook messages posted with httpx: no redirects followed, one timeout for the whole try."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from logistic.domain.webhook import ANSWER_EXCERPT, Attempt


class HttpWebhookSender:
    """One connection pool shared by the dispatcher's workers (httpx.Client is thread-safe)."""

    def __init__(
        self, clock: Callable[[], datetime], timeout_s: float = 10.0, connections: int = 64
    ) -> None:
        self._clock = clock
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"user-agent": "logistic-webhooks/1"},
        )

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        at = self._clock()
        started = time.perf_counter()
        try:
            with self._client.stream("POST", url, headers=dict(headers), content=body) as answer:
                excerpt = b""
                for chunk in answer.iter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= ANSWER_EXCERPT:
                        break
                text = excerpt[:ANSWER_EXCERPT].decode("utf-8", "replace")[:ANSWER_EXCERPT]
                code: int | None = answer.status_code
        except httpx.TimeoutException:
            code, text = None, "timed out"
        except httpx.HTTPError as error:
            code, text = None, f"{type(error).__name__}: {error}"[:ANSWER_EXCERPT]
        latency_ms = int((time.perf_counter() - started) * 1000)
        return Attempt(at, code, latency_ms, text)

    def close(self) -> None:
        self._client.close()
