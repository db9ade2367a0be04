"""One contract for the IdempotencyKeys port, on memory, SQLite and MariaDB."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logistic.adapters.memory import MemoryIdempotencyKeys
from logistic.adapters.sql.idempotency import SqlIdempotencyKeys
from logistic.domain.errors import IdempotencyConflict, IdempotencyKeyReused
from logistic.ports.idempotency import Answer, IdempotencyKeys
from tests.integration.sql_backends import WITH_GALERA, Backend, backend_params, open_backend


@pytest.fixture(params=backend_params(*WITH_GALERA))
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every back end, and a Galera cluster with writes spread over its nodes; empty."""
    yield from open_backend(request.param, request, tmp_path)


NOW = datetime(2026, 11, 25, 4, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(seconds=60)
KEY = "a" * 64
REQUEST = "f" * 64
BODY = '{"sno":"7","recipient":{"name":"李**"}}'.encode() + bytes(range(256))


@pytest.fixture
def keys(empty_backend: Backend) -> IdempotencyKeys:
    if empty_backend.engine is None:
        return MemoryIdempotencyKeys()
    return SqlIdempotencyKeys(empty_backend.engine)


def test_the_first_claim_holds_the_key(keys: IdempotencyKeys) -> None:
    assert keys.claim(KEY, REQUEST, NOW, LEASE) is None


def test_a_completed_key_answers_every_later_claim_exactly(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    keys.complete(KEY, Answer(201, BODY))

    for later in (NOW, NOW + timedelta(hours=23)):
        assert keys.claim(KEY, REQUEST, later, LEASE) == Answer(201, BODY)


def test_a_key_held_by_a_request_in_progress_is_a_conflict(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    with pytest.raises(IdempotencyConflict):
        keys.claim(KEY, REQUEST, NOW + LEASE - timedelta(seconds=1), LEASE)


def test_an_abandoned_claim_is_taken_over_after_the_lease(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    assert keys.claim(KEY, REQUEST, NOW + LEASE, LEASE) is None
    with pytest.raises(IdempotencyConflict):
        keys.claim(KEY, REQUEST, NOW + LEASE + timedelta(seconds=1), LEASE)


def test_the_same_key_for_another_request_is_refused(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    with pytest.raises(IdempotencyKeyReused):
        keys.claim(KEY, "e" * 64, NOW, LEASE)
    keys.complete(KEY, Answer(201, BODY))
    with pytest.raises(IdempotencyKeyReused):
        keys.claim(KEY, "e" * 64, NOW, LEASE)


def test_a_released_key_may_be_claimed_again_even_for_another_request(
    keys: IdempotencyKeys,
) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    keys.release(KEY)
    assert keys.claim(KEY, "e" * 64, NOW, LEASE) is None


def test_release_never_drops_an_answer(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    keys.complete(KEY, Answer(201, BODY))
    keys.release(KEY)
    keys.release("b" * 64)  # never claimed: harmless
    assert keys.claim(KEY, REQUEST, NOW, LEASE) == Answer(201, BODY)


def test_keys_are_apart(keys: IdempotencyKeys) -> None:
    keys.claim(KEY, REQUEST, NOW, LEASE)
    keys.complete(KEY, Answer(201, b"first"))
    assert keys.claim("b" * 64, REQUEST, NOW, LEASE) is None


def test_purge_forgets_keys_claimed_before_the_limit(keys: IdempotencyKeys) -> None:
    keys.claim("1" * 64, REQUEST, NOW - timedelta(hours=25), LEASE)
    keys.complete("1" * 64, Answer(201, b"old"))
    keys.claim("2" * 64, REQUEST, NOW - timedelta(hours=2), LEASE)
    keys.complete("2" * 64, Answer(201, b"recent"))
    keys.claim("3" * 64, REQUEST, NOW - timedelta(hours=30), LEASE)  # never completed

    assert keys.purge(NOW - timedelta(hours=24)) == 2

    assert keys.claim("1" * 64, REQUEST, NOW, LEASE) is None
    assert keys.claim("2" * 64, REQUEST, NOW, LEASE) == Answer(201, b"recent")
    assert keys.claim("3" * 64, REQUEST, NOW, LEASE) is None


def test_of_concurrent_claims_exactly_one_holds_the_key(keys: IdempotencyKeys) -> None:
    start = threading.Barrier(12)

    def claim(_: int) -> str:
        start.wait()
        try:
            return "held" if keys.claim(KEY, REQUEST, NOW, LEASE) is None else "answer"
        except IdempotencyConflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(claim, range(12)))
    assert sorted(outcomes) == ["conflict"] * 11 + ["held"]
