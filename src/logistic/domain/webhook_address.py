"""Which endpoint URLs a subscription may name: no plain HTTP, no address inside our network.

A subscriber could otherwise make the service post to its own internal hosts (SSRF):
the database, the cloud's metadata service, an admin port on loopback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from logistic.domain.errors import InvalidInput

MAX_URL = 2048
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def endpoint_host(url: str, allow_http: bool) -> str:
    """The host of `url`, when it is an absolute https (or, with `allow_http`, http) URL."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise InvalidInput(f"url is required, an absolute URL of at most {MAX_URL} characters")
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise InvalidInput("url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url is not a valid URL") from None
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise InvalidInput("url must start with https://" + (" or http://" if allow_http else ""))
    if not parts.hostname:
        raise InvalidInput("url must name a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url must not carry credentials")
    if port == 0:
        raise InvalidInput("url names port 0")
    return parts.hostname


def refused(address: str) -> bool:
    """Whether `address` is one a webhook must not reach: loopback, private, link-local
    (the cloud metadata service at 169.254.169.254 among them), multicast or reserved."""
    try:
        ip: IpAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast
