"""One contract for the HostResolver port: a table in memory, and the system's resolver."""

from __future__ import annotations

import pytest

from logistic.adapters.memory_webhooks import MemoryResolver
from logistic.adapters.socket_resolver import SocketResolver
from logistic.ports.host_resolver import HostResolver


@pytest.fixture(params=["memory", "socket"])
def resolver(request: pytest.FixtureRequest) -> HostResolver:
    if request.param == "memory":
        return MemoryResolver({"localhost": ["127.0.0.1", "::1"]})
    return SocketResolver()


def test_a_name_resolves_to_its_addresses(resolver: HostResolver) -> None:
    assert "127.0.0.1" in resolver.addresses("localhost")


def test_an_address_resolves_to_itself(resolver: HostResolver) -> None:
    assert resolver.addresses("10.1.2.3") == ("10.1.2.3",)
    assert resolver.addresses("[::1]") == ("::1",)


@pytest.mark.parametrize("host", ["nowhere.invalid", "", "a..b", "x" * 300])
def test_an_unknown_or_malformed_name_resolves_to_nothing(
    resolver: HostResolver, host: str
) -> None:
    assert resolver.addresses(host) == ()
