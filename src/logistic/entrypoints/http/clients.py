"""The address a request comes from, for per-client limits."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from flask import request

from logistic.settings import ProxyNetwork


def _trusted(address: str, proxies: Sequence[ProxyNetwork]) -> bool:
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def from_trusted_proxy(remote: str, proxies: Sequence[ProxyNetwork]) -> bool:
    """True when the peer `remote` is one of the proxies whose headers are believed."""
    return _trusted(remote, proxies)


def client_address(
    remote: str, forwarded_for: Sequence[str], proxies: Sequence[ProxyNetwork]
) -> str:
    """The client's address: `remote`, unless it is a trusted proxy.

    Then X-Forwarded-For is read from the right, each trusted proxy having appended
    the address it received from; the first address not trusted is the client.
    Everything left of it was written by the client and is never believed.
    """
    if not _trusted(remote, proxies):
        return remote
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = remote
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break
        client = hop
        if not _trusted(hop, proxies):
            break
    return client


def environ_client(environ: Mapping[str, Any], proxies: Sequence[ProxyNetwork]) -> str:
    """The client of the WSGI request `environ` (see `client_address`)."""
    remote = environ.get("REMOTE_ADDR") or "unknown"
    if not proxies:
        return str(remote)
    # The server joins repeated X-Forwarded-For headers with commas, in order.
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    return client_address(remote, [] if forwarded is None else [forwarded], proxies)


def request_client(proxies: Sequence[ProxyNetwork]) -> str:
    return environ_client(request.environ, proxies)
