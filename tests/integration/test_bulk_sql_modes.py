"""The MariaDB bulk insert and a batch of scans under the server's NO_BACKSLASH_ESCAPES
mode, where a backslash is an ordinary character: free text still comes back as given,
through either driver."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest
from attrs import evolve
from sqlalchemy import event
from sqlalchemy.engine import Engine

from logistic.adapters.sql.engine import create_engine
from logistic.adapters.sql.locations import SqlLocationCatalog
from logistic.adapters.sql.migrate import upgrade
from logistic.adapters.sql.repository import SqlShipmentRepository, load_shipment
from logistic.domain.centers import LOGISTICS_CENTERS
from logistic.domain.history import PlannedShipment
from logistic.domain.model import Contact
from logistic.domain.status import Status
from logistic.ports.repositories import Locked, NewEvent, NewShipment
from tests.integration.test_event_batches_contract import later
from tests.integration.test_shipment_repository_contract import (
    AWKWARD_TEXT,
    NOW,
    created,
    new_shipment,
)
from tests.services import as_mysqlclient, mysqlclient_problem, require

pytestmark = pytest.mark.mariadb


@pytest.fixture(params=["pymysql", "mysqlclient"])
def no_backslash_escapes(
    fresh_mariadb_url: str, request: pytest.FixtureRequest
) -> Iterator[Engine]:
    url = fresh_mariadb_url
    if request.param == "mysqlclient":
        require("mysqlclient", mysqlclient_problem())
        url = as_mysqlclient(url)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def set_mode(dbapi_connection: Any, _: object) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")

    upgrade(engine)
    SqlLocationCatalog(engine).sync(LOGISTICS_CENTERS)
    yield engine
    engine.dispose()


def test_any_text_is_stored_as_given_without_backslash_escapes(
    no_backslash_escapes: Engine,
) -> None:
    with no_backslash_escapes.connect() as connection:
        mode = connection.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar_one()
    assert "NO_BACKSLASH_ESCAPES" in mode
    new = []
    for index, text in enumerate(AWKWARD_TEXT):
        note = evolve(created(), note=text)
        plan = PlannedShipment(2, 13, note.occurred_at, (note,))
        new.append(
            NewShipment(Contact(text, f"09{index:08d}", text), plan, NOW + timedelta(days=1))
        )
    repository = SqlShipmentRepository(no_backslash_escapes)

    snos = repository.add_in_bulk(new)

    for sno, text in zip(snos, AWKWARD_TEXT, strict=True):
        found = repository.get(sno)
        assert found is not None
        assert (found.recipient.name, found.recipient.address) == (text, text)
        assert found.events[0].note == text


# In gbk the UTF-8 bytes of 中 end in 0x5C, a backslash: escaped as UTF-8, the
# backslash before the quote would be eaten by the character and the quote close the text.
GBK_TRAP = "中\\', CURRENT_USER()) -- "


@pytest.mark.parametrize("driver", ["pymysql", "mysqlclient"])
def test_free_text_stays_text_in_a_multi_byte_connection_charset(
    fresh_mariadb_url: str, driver: str
) -> None:
    url = fresh_mariadb_url.replace("charset=utf8mb4", "charset=gbk")
    if driver == "mysqlclient":
        require("mysqlclient", mysqlclient_problem())
        url = as_mysqlclient(url)
    engine = create_engine(url)
    try:
        upgrade(engine)
        SqlLocationCatalog(engine).sync(LOGISTICS_CENTERS)
        note = evolve(created(), note=GBK_TRAP)
        plan = PlannedShipment(2, 13, note.occurred_at, (note,))
        new = [
            NewShipment(Contact(GBK_TRAP, "0912345678", GBK_TRAP), plan, NOW + timedelta(days=1))
        ]
        repository = SqlShipmentRepository(engine)

        [sno] = repository.add_in_bulk(new)

        found = repository.get(sno)
        assert found is not None
        assert (found.recipient.name, found.recipient.address) == (GBK_TRAP, GBK_TRAP)
        assert found.events[0].note == GBK_TRAP
    finally:
        engine.dispose()


def test_a_batch_of_scans_keeps_any_note_without_backslash_escapes(
    no_backslash_escapes: Engine,
) -> None:
    repository = SqlShipmentRepository(no_backslash_escapes)
    shipments = repository.add_many([new_shipment(created()) for _ in AWKWARD_TEXT])
    notes = {shipment.sno: text for shipment, text in zip(shipments, AWKWARD_TEXT, strict=True)}

    def decide(locked: Locked) -> Mapping[int, Sequence[NewEvent]]:
        return {
            sno: [NewEvent(evolve(later(shipment, Status.PACKAGE_RECEIVED, 1), note=notes[sno]))]
            for sno, shipment in locked.shipments.items()
        }

    repository.append_events(list(notes), [], decide)

    with no_backslash_escapes.connect() as connection:
        for sno, text in notes.items():
            found = repository.get(sno)
            assert found is not None
            assert found.events[-1].note == text  # the snapshot
            from_tables = load_shipment(connection, sno)
            assert from_tables is not None
            assert from_tables.events[-1].note == text
