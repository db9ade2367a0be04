"""Plausible Taiwanese recipients for fake orders, made with Faker."""

from __future__ import annotations

import random

from logistic.domain.model import Contact

DEFAULT_POOL_SIZE = 2_000
_POOL_SEED = 20240101


class FakerContacts:
    """Contacts drawn from pools of Faker-made names and addresses.

    Faker takes about 70 µs for a zh_TW name and address, so 100,000 orders
    would spend seven seconds in it. The pools are made once, from a fixed
    seed, and each contact draws a name, an address and a mobile number from
    the caller's `rng`: the same seed gives the same contact, in any process.
    """

    def __init__(self, locale: str = "zh_TW", pool_size: int = DEFAULT_POOL_SIZE) -> None:
        # Imported on first use: Faker costs a worker that never makes a contact 4 MiB.
        from faker import Faker

        faker = Faker(locale)
        faker.seed_instance(_POOL_SEED)
        self._names = tuple(faker.name() for _ in range(pool_size))
        self._addresses = tuple(faker.address() for _ in range(pool_size))

    def contact(self, rng: random.Random) -> Contact:
        return Contact(
            name=rng.choice(self._names),
            phone=f"09{rng.randrange(10**8):08d}",
            address=rng.choice(self._addresses),
        )
