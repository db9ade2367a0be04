"""What a host name resolves to: the webhook endpoints' addresses are checked against SSRF."""

from __future__ import annotations

from typing import Protocol


class HostResolver(Protocol):
    def addresses(self, host: str) -> tuple[str, ...]:
        """The IP addresses `host` resolves to (itself for an IP literal), as text.

        Empty when it does not resolve; never raises for a malformed name.
        """
        ...
