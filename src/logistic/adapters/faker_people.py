"""Plausible Taiwanese recipients for fake orders, made with Faker.

    python -m logistic.adapters.faker_people [LOCALE] [POOL_SIZE]

prints the pools as JSON: how FakerContacts makes them, in a child process.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading

from logistic.domain.model import Contact

DEFAULT_POOL_SIZE = 2_000
_POOL_SEED = 20240101
# Well beyond the time it takes, and inside nginx's 15 s and granian's 20 s of grace.
_POOLS_TIMEOUT_S = 10


class FakerContacts:
    """Contacts drawn from pools of Faker-made names and addresses.

    Faker is slow per contact, so the pools are made once, from a fixed seed, and
    each contact draws a name, an address and a mobile number from the caller's
    `rng`: the same seed gives the same contact, in any process.

    They are made in a child process (`pools`), because Faker's modules, once
    imported, stay in a worker's memory for its whole life (docs/performance.md,
    "Faker's contact pools"). They are made at the first contact, once however many
    threads ask at that moment, under this object's own lock: not while the object is
    built, when the container's lock for every singleton is held.
    """

    def __init__(self, locale: str = "zh_TW", pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._locale = locale
        self._pool_size = pool_size
        self._lock = threading.Lock()
        self._made: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def contact(self, rng: random.Random) -> Contact:
        names, addresses = self._pools()
        return Contact(
            name=rng.choice(names),
            phone=f"09{rng.randrange(10**8):08d}",
            address=rng.choice(addresses),
        )

    def _pools(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        made = self._made
        if made is None:
            with self._lock:
                if self._made is None:
                    self._made = pools(self._locale, self._pool_size)
                made = self._made
        return made


def pools(locale: str, pool_size: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names and the addresses `made_pools` makes, made by this module in a child
    process; RuntimeError, with what it wrote, when it fails."""
    # This interpreter and this module; the locale is an argument, never a shell's.
    # -P: the working directory is not put first on the child's path, so a faker.py or
    # logistic/ lying there cannot stand in for the installed ones.
    command = [sys.executable, "-P", "-m", __name__, locale, str(pool_size)]
    try:
        done = subprocess.run(  # noqa: S603
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            timeout=_POOLS_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"making the contact pools failed: {_said(error.stderr)}") from error
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"making the contact pools failed: {error}") from error
    try:
        names, addresses = json.loads(done.stdout)
    except ValueError as error:
        raise RuntimeError(
            f"the contact pools' maker wrote no pools ({error}): it wrote "
            f"{_said(done.stdout[:300])!r} and said {_said(done.stderr)}"
        ) from error
    return tuple(names), tuple(addresses)


def _said(output: bytes) -> str:
    return output[-2000:].decode(errors="replace")


def made_pools(locale: str, pool_size: int) -> tuple[list[str], list[str]]:
    """`pool_size` Faker names and addresses of `locale`, from the fixed seed."""
    from faker import Faker

    faker = Faker(locale)
    faker.seed_instance(_POOL_SEED)
    names = [faker.name() for _ in range(pool_size)]
    addresses = [faker.address() for _ in range(pool_size)]
    return names, addresses


if __name__ == "__main__":
    # A seeding worker ignores SIGINT, and a child inherits that: Ctrl-C ends this too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    locale = sys.argv[1] if len(sys.argv) > 1 else "zh_TW"
    size = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_POOL_SIZE
    # ASCII JSON: whatever encoding this process's stdout has.
    json.dump(made_pools(locale, size), sys.stdout)
