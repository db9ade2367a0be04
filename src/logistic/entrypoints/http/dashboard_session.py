"""The dashboard's session cookie, marked Secure whenever the page was asked for over TLS
(directly, or through a trusted proxy that says so in X-Forwarded-Proto), so that a browser
never sends it in the clear once it has been given over HTTPS."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from logistic.entrypoints.http.clients import from_trusted_proxy
from logistic.settings import ProxyNetwork


def over_tls(proxies: Sequence[ProxyNetwork]) -> bool:
    """True when this request reached the service, or its trusted proxy, over HTTPS."""
    if request.scheme == "https":
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    remote = request.remote_addr or ""
    return forwarded.strip().lower() == "https" and from_trusted_proxy(remote, proxies)


class DashboardSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, Secure over TLS (see the module's docstring)."""

    def __init__(self, proxies: Sequence[ProxyNetwork]) -> None:
        self._proxies = tuple(proxies)

    def get_cookie_secure(self, app: Flask) -> bool:
        return over_tls(self._proxies)
