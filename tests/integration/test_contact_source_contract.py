"""The ContactSource promise, held by every adapter: Faker's pools and the built-in list."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from logistic.adapters.faker_people import FakerContacts
from logistic.adapters.memory import MemoryContacts
from logistic.ports.people import ContactSource

MOBILE = re.compile(r"09[0-9]{8}")
SOURCES: dict[str, Callable[[], ContactSource]] = {
    "faker": lambda: FakerContacts(pool_size=50),
    "memory": MemoryContacts,
}


@pytest.fixture(params=sorted(SOURCES))
def source(request: pytest.FixtureRequest) -> ContactSource:
    return SOURCES[request.param]()


def test_a_contact_has_a_name_a_taiwanese_mobile_and_an_address(source: ContactSource) -> None:
    for seed in range(20):
        contact = source.contact(random.Random(seed))
        assert contact.name.strip()
        assert MOBILE.fullmatch(contact.phone), contact.phone
        assert contact.address.strip()


def test_the_same_seed_gives_the_same_contact(source: ContactSource) -> None:
    assert source.contact(random.Random(7)) == source.contact(random.Random(7))


def test_contacts_differ_from_one_draw_to_the_next(source: ContactSource) -> None:
    rng = random.Random(11)
    contacts = [source.contact(rng) for _ in range(30)]
    assert len({contact.phone for contact in contacts}) == 30
    assert len({contact.name for contact in contacts}) > 1
    assert len({contact.address for contact in contacts}) > 1
