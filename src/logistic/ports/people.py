"""Where demo recipients come from (names, phones, addresses)."""

from __future__ import annotations

import random
from typing import Protocol

from logistic.domain.model import Contact


class ContactSource(Protocol):
    def contact(self, rng: random.Random) -> Contact:
        """A plausible recipient (name, Taiwanese mobile 09xxxxxxxx, address), drawn from rng."""
        ...
