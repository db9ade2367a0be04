"""One contract for the ApiKeys port, on memory and on the key file."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from logistic.adapters.key_file import KeyFile
from logistic.adapters.memory import MemoryApiKeys
from logistic.domain.access import Scope, key_digest
from logistic.ports.api_keys import ApiKeys, StoredKey


def _key(name: str, *scopes: Scope) -> StoredKey:
    return StoredKey(key_digest(name), frozenset(scopes))


@pytest.fixture(params=["memory", "file"])
def keys(request: pytest.FixtureRequest, tmp_path: Path) -> ApiKeys:
    if request.param == "memory":
        return MemoryApiKeys()
    return KeyFile(tmp_path / "api-keys")  # no file yet: a service before its first key


def test_a_new_store_has_no_key(keys: ApiKeys) -> None:
    assert keys.all() == ()


def test_an_added_key_comes_back_with_its_scopes(keys: ApiKeys) -> None:
    key = _key("lgk_one", Scope.EVENTS_WRITE, Scope.PII_READ)

    keys.add(key)

    assert keys.all() == (key,)


def test_keys_come_back_in_the_order_they_were_added(keys: ApiKeys) -> None:
    added = [
        _key("lgk_every_scope", *Scope),
        *(_key(f"lgk_{scope.name}", scope) for scope in Scope),
        _key("lgk_same_scopes_another_key", Scope.EVENTS_WRITE),
    ]
    for key in added:
        keys.add(key)

    assert keys.all() == tuple(added)


def test_a_key_added_after_a_read_is_in_the_next_read(keys: ApiKeys) -> None:
    first, second = _key("lgk_first", Scope.FAKE_WRITE), _key("lgk_second", Scope.REPORTS_READ)
    assert keys.all() == ()

    keys.add(first)
    assert keys.all() == (first,)
    keys.add(second)
    assert keys.all() == (first, second)
    assert keys.all() == (first, second)


def test_reads_while_keys_are_added_see_every_key_so_far_in_order(keys: ApiKeys) -> None:
    added = [_key(f"lgk_{number}", Scope.EVENTS_WRITE) for number in range(40)]
    done = threading.Event()

    def read() -> list[tuple[StoredKey, ...]]:
        seen = []
        while not done.is_set():
            seen.append(keys.all())
        return seen

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(read) for _ in range(4)]
        for key in added:
            keys.add(key)
        done.set()
        reads = [seen for reader in readers for seen in reader.result()]

    assert all(seen == tuple(added[: len(seen)]) for seen in reads)
    assert keys.all() == tuple(added)
