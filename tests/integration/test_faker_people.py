"""The contacts Faker makes (names, phones, addresses), whose pools come from a child process."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from logistic.adapters import faker_people
from logistic.adapters.faker_people import DEFAULT_POOL_SIZE, FakerContacts, made_pools, pools
from logistic.container import Container
from logistic.domain.privacy import mask_address
from logistic.settings import Settings

CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@pytest.fixture(scope="module")
def contacts() -> FakerContacts:
    return FakerContacts()


def test_phones_are_taiwanese_mobile_numbers(contacts: FakerContacts) -> None:
    rng = random.Random(7)

    phones = [contacts.contact(rng).phone for _ in range(500)]

    assert all(re.fullmatch(r"^09\d{8}$", phone) for phone in phones)


def test_names_are_chinese_and_addresses_are_not_empty(contacts: FakerContacts) -> None:
    rng = random.Random(7)

    for _ in range(200):
        contact = contacts.contact(rng)
        assert CJK.match(contact.name)
        assert contact.address.strip()


def test_the_same_seed_gives_the_same_contacts(contacts: FakerContacts) -> None:
    rng_a, rng_b = random.Random(42), random.Random(42)

    assert [contacts.contact(rng_a) for _ in range(50)] == [
        contacts.contact(rng_b) for _ in range(50)
    ]


def test_the_same_seed_gives_the_same_contact_from_a_new_source(contacts: FakerContacts) -> None:
    assert FakerContacts().contact(random.Random(42)) == contacts.contact(random.Random(42))


def test_another_seed_gives_other_contacts(contacts: FakerContacts) -> None:
    rng_a, rng_b = random.Random(1), random.Random(2)

    assert [contacts.contact(rng_a) for _ in range(20)] != [
        contacts.contact(rng_b) for _ in range(20)
    ]


def test_the_pools_are_made_without_importing_faker_here() -> None:
    """An API worker keeps what it imports: Faker's modules stay in the child."""
    script = (
        "import sys\n"
        "from logistic.adapters.faker_people import FakerContacts\n"
        "FakerContacts(pool_size=50)\n"
        "assert 'faker' not in sys.modules, 'faker imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert done.returncode == 0, done.stderr


def test_the_pools_are_fakers_own(contacts: FakerContacts) -> None:
    names, addresses = made_pools("zh_TW", 20)

    assert pools("zh_TW", 20) == (tuple(names), tuple(addresses))


def test_a_child_that_fails_says_why() -> None:
    with pytest.raises(RuntimeError, match="no_such_locale"):
        FakerContacts(locale="no_such_locale").contact(random.Random(1))


def test_a_faker_py_where_the_service_runs_does_not_stand_in_for_fakers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "faker.py").write_text("print('not Faker')\nraise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)

    names, addresses = pools("zh_TW", 5)

    assert len(names) == len(addresses) == 5


def test_every_faker_address_loses_its_street_and_number() -> None:
    _, addresses = pools("zh_TW", DEFAULT_POOL_SIZE)  # every address a contact may have
    for address in addresses:
        shown = mask_address(address)
        street = re.sub(r"^\d+ ", "", address)
        assert shown, address
        assert street.startswith(shown), address
        assert not re.search(r"[\d路街巷號樓段]", shown), (address, shown)
        assert len(shown) <= 4, (address, shown)


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_ctrl_c_ends_the_pools_maker_though_its_parent_ignores_it() -> None:
    """A seeding worker ignores SIGINT and its child would inherit that: Ctrl-C must
    not leave the child running on its own."""
    maker = subprocess.Popen(
        [sys.executable, "-P", "-m", "logistic.adapters.faker_people", "zh_TW", "50000000"],
        stdout=subprocess.DEVNULL,
        preexec_fn=_sigint_ignored,
    )
    try:
        time.sleep(3)  # past the imports, into making the pools
        assert maker.poll() is None, "still making fifty million names"
        maker.send_signal(signal.SIGINT)
        assert maker.wait(timeout=10) == -signal.SIGINT
    finally:
        maker.kill()
        maker.wait()


def test_a_workers_threads_asking_at_once_share_one_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pools cost a child process: a worker's threads at its first /fake make them once,
    and the container's lock is not held meanwhile (another first request waits not)."""
    made: list[int] = []

    def slow_pools(locale: str, pool_size: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        made.append(pool_size)
        time.sleep(0.5)
        return ("王小明",), ("臺北市",)

    monkeypatch.setattr(faker_people, "pools", slow_pools)
    container = Container(settings=Settings.from_environ({"LOGISTIC_HOME": str(tmp_path)}))
    start = threading.Barrier(6)

    def ask(_: int) -> tuple[int, str]:
        start.wait()
        contacts = container.contacts()
        return id(contacts), contacts.contact(random.Random(1)).name

    with ThreadPoolExecutor(7) as pool:
        asked = [pool.submit(ask, n) for n in range(6)]
        time.sleep(0.1)  # the pools are being made
        started = time.perf_counter()
        container.access()  # another provider, built for the first time
        assert time.perf_counter() - started < 0.2
        assert len({future.result() for future in asked}) == 1
    assert made == [faker_people.DEFAULT_POOL_SIZE]
