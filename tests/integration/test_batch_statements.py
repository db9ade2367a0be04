"""What a batch of scans sends: one statement per table it writes (batch_rows.py), and
on MariaDB, whose rows are literals, more only beyond a megabyte."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import evolve

from logistic.adapters.sql.repository import load_shipment
from logistic.domain.model import Shipment
from logistic.domain.status import Status
from logistic.ports.idempotency import WriteClaim
from logistic.ports.repositories import Locked, NewEvent
from tests.integration.sql_backends import Backend
from tests.integration.test_event_batches_contract import later, stored
from tests.integration.test_shipment_repository_contract import NOW
from tests.integration.test_sql_shipment_repository import statements

PR, IT = Status.PACKAGE_RECEIVED, Status.IN_TRANSIT
_TABLES = ("tracking_events", "event_claims", "orders")


def _batch(
    backend: Backend, shipments: Sequence[Shipment], note: str, keyed: bool, scans: int = 2
) -> tuple[dict[int, Shipment], list[str]]:
    """`scans` scans a shipment (the first with a key if `keyed`): what append_events
    gave back, and the INSERT statements it sent."""
    claims = {s.sno: WriteClaim(f"{s.sno:064d}", "f" * 64, NOW) for s in shipments}

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        return {
            sno: [
                NewEvent(later(shipment, PR, 1), claims[sno] if keyed else None),
                *(
                    NewEvent(evolve(later(shipment, IT, minutes), note=note))
                    for minutes in range(2, scans + 1)
                ),
            ]
            for sno, shipment in locked.shipments.items()
        }

    updated: list[dict[int, Shipment]] = []
    keys = [claim.key for claim in claims.values()] if keyed else []
    sent = statements(
        backend.engine,  # type: ignore[arg-type]
        lambda: updated.append(backend.shipments.append_events(list(claims), keys, decide)),
    )
    return updated[0], [text for text in sent if text.startswith("INSERT")]


def _into(inserts: list[str], table: str) -> int:
    return sum(text.startswith(f"INSERT INTO {table} ") for text in inserts)


def test_a_batch_sends_one_insert_per_table(sql_shipment_backend: Backend) -> None:
    shipments = stored(sql_shipment_backend, 50)

    updated, inserts = _batch(sql_shipment_backend, shipments, "short", keyed=True)

    assert [_into(inserts, table) for table in _TABLES] == [1, 1, 1]
    assert len(inserts) == 3
    assert len(updated) == 50
    for sno, shipment in updated.items():
        assert sql_shipment_backend.shipments.get(sno) == shipment


def test_a_batch_over_a_megabyte_goes_out_in_several_statements_on_mariadb_only(
    sql_shipment_backend: Backend,
) -> None:
    engine = sql_shipment_backend.engine
    assert engine is not None
    shipments = stored(sql_shipment_backend, 300)
    # Ten scans an order with notes of the longest: over a million characters of events,
    # and as many of snapshots.
    note = "雨" * 500

    updated, inserts = _batch(sql_shipment_backend, shipments, note, keyed=False, scans=10)

    counts = [_into(inserts, table) for table in _TABLES]
    if sql_shipment_backend.name.startswith("mariadb"):  # literals, whichever the driver
        assert counts[0] >= 2
        assert counts[2] >= 2
    else:
        assert counts == [1, 0, 1]
    with engine.connect() as connection:
        for sno, shipment in updated.items():
            assert sql_shipment_backend.shipments.get(sno) == shipment
            assert load_shipment(connection, sno) == shipment
            assert shipment.events[-1].note == note
