"""Posting one webhook message to an endpoint, once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from logistic.domain.webhook import Attempt


class WebhookSender(Protocol):
    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Attempt:
        """POST `body` to `url` once, following no redirect, within the sender's timeout.

        Never raises for the endpoint's failures: a refused connection, a timeout or a
        TLS error is an Attempt without status code, its answer saying what happened;
        of an answer, its first ANSWER_EXCERPT bytes are kept.
        """
        ...
