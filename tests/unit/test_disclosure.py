"""The recipient's whole name and address for the last four digits of their phone, and no
more than five tries an hour per order and per client."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from logistic.adapters.memory import MemoryRateLimiter
from logistic.container import Container
from logistic.domain.errors import CacheUnavailable, InvalidInput, RateLimited
from logistic.domain.status import Status
from logistic.ports.rate_limiter import Window
from logistic.services.disclosure import DigitsMismatch, Disclosure
from logistic.services.tracking import page_key
from tests.unit.scans import shipment_with

HISTORY = [Status.CREATED, Status.PACKAGE_RECEIVED, Status.IN_TRANSIT]
RIGHT, WRONG = "3401", "1111"  # the phone of tests.unit.scans.CONTACT is 0966123401


class DownLimiter:
    def hit(self, key: str, window: Window) -> int:
        raise CacheUnavailable("the counters are down")


def test_the_right_digits_show_the_whole_recipient(container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    shipment = container.disclosure().reveal("1.2.3.4", sno, RIGHT)
    assert shipment.recipient.name == "李小明"


def test_five_tries_an_hour_per_order_then_none_even_the_right_one(container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    disclosure = container.disclosure()
    for client in ("a", "b", "c", "d", "e"):
        with pytest.raises(DigitsMismatch):
            disclosure.reveal(client, sno, WRONG)
    with pytest.raises(RateLimited) as refused:
        disclosure.reveal("f", sno, RIGHT)
    assert 0 < refused.value.retry_after <= 3600


def test_five_tries_an_hour_per_client_whatever_the_order(container: Container) -> None:
    snos = [shipment_with(container, HISTORY) for _ in range(6)]
    disclosure = container.disclosure()
    for sno in snos[:5]:
        with pytest.raises(DigitsMismatch):
            disclosure.reveal("1.2.3.4", sno, WRONG)
    with pytest.raises(RateLimited):
        disclosure.reveal("1.2.3.4", snos[5], RIGHT)
    assert disclosure.reveal("5.6.7.8", snos[5], RIGHT).sno == snos[5]


def test_malformed_digits_are_refused_without_counting(container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    disclosure = container.disclosure()
    for typed in ("", "34", "340１", "abcd", "34011"):
        with pytest.raises(InvalidInput):
            disclosure.reveal("1.2.3.4", sno, typed)
    assert disclosure.reveal("1.2.3.4", sno, RIGHT).sno == sno


def test_nothing_is_shown_while_the_counters_are_down(container: Container) -> None:
    sno = shipment_with(container, HISTORY)
    disclosure = Disclosure(container.shipments(), DownLimiter(), container.clock())
    with pytest.raises(CacheUnavailable):
        disclosure.reveal("1.2.3.4", sno, RIGHT)
    working = Disclosure(container.shipments(), MemoryRateLimiter(), container.clock())
    assert working.reveal("1.2.3.4", sno, RIGHT).sno == sno


def test_the_page_shows_the_whole_recipient_privately_and_caches_nothing(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    shown = client.post(f"/track/{sno}", data={"digits": " ３４０１ ", "lang": "en"})
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert shown.headers["Content-Language"] == "en"
    body = shown.get_data(as_text=True)
    assert "李小明" in body
    assert "澎湖縣馬公市中正路200號" in body
    assert 'data-refresh="0"' in body  # no polling: a redraw would mask it again
    assert container.cache().get(page_key(sno, "en")) is None


def test_wrong_digits_say_so_on_the_masked_page_then_the_limit_is_a_429_page(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    for _ in range(5):
        wrong = client.post(f"/track/{sno}", data={"digits": WRONG})
        assert wrong.status_code == 403
        assert wrong.headers["Cache-Control"] == "private, no-store"
        body = wrong.get_data(as_text=True)
        assert "號碼不符" in body
        assert "李小明" not in body
        assert 'aria-invalid="true"' in body
    refused = client.post(f"/track/{sno}", data={"digits": RIGHT})
    assert refused.status_code == 429
    assert refused.content_type == "text/html; charset=utf-8"
    assert "李小明" not in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"].isdigit()


def test_malformed_digits_get_the_page_back_with_a_400(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, HISTORY)
    page = client.post(f"/track/{sno}", data={"digits": "12"})
    assert page.status_code == 400
    assert re.search(r'role="alert">請輸入 4 位數字。<', page.get_data(as_text=True))
    unknown = client.post("/track/777777", data={"digits": RIGHT})
    assert unknown.status_code == 404
    assert unknown.content_type == "text/html; charset=utf-8"
