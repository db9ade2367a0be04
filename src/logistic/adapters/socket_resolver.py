"""Host names resolved by the system's resolver (getaddrinfo)."""

from __future__ import annotations

import socket


class SocketResolver:
    def addresses(self, host: str) -> tuple[str, ...]:
        try:
            found = socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError, ValueError):
            return ()
        return tuple(dict.fromkeys(str(info[4][0]) for info in found))
