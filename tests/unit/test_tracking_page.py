"""The tracking pages through the app: what a person sees, in which language, and every
mistake answered with an HTML page while the JSON routes keep their JSON."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from logistic.container import Container, memory_container
from logistic.domain.access import Scope
from logistic.domain.status import Status
from logistic.entrypoints.http import create_app
from logistic.services.tracking import page_key
from logistic.settings import Settings
from tests.unit.conftest import NOW
from tests.unit.scans import assert_error, key_with, post_event, shipment_with

S = Status
IN_TRANSIT = [S.CREATED, S.PACKAGE_RECEIVED, S.IN_TRANSIT]
HTML = "text/html; charset=utf-8"


def text(response: TestResponse) -> str:
    """The page's visible words, tags dropped."""
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def assert_page(response: TestResponse, code: int, lang: str = "zh-Hant") -> str:
    assert response.status_code == code, response.data[:300]
    assert response.content_type == HTML
    assert response.headers["Content-Language"] == lang
    body = response.get_data(as_text=True)
    assert body.startswith("<!doctype html>")
    assert f'<html lang="{lang}">' in body
    return body


def test_the_search_page_is_in_traditional_chinese_by_default(client: FlaskClient) -> None:
    body = assert_page(client.get("/"), 200)
    assert '<form class="search" action="/track" method="get" role="search">' in body
    assert '<label for="sno">訂單編號</label>' in body


def test_english_by_asking_and_the_choice_is_kept_in_a_cookie(client: FlaskClient) -> None:
    asked = client.get("/?lang=en")
    assert_page(asked, 200, "en")
    assert "lang=en" in asked.headers["Set-Cookie"]
    assert "Max-Age=31536000" in asked.headers["Set-Cookie"]
    assert "private" in asked.headers["Cache-Control"]

    assert_page(client.get("/"), 200, "en")  # the cookie, without asking again
    back = client.get("/?lang=zh-Hant")
    assert_page(back, 200, "zh-Hant")
    assert_page(client.get("/"), 200, "zh-Hant")


def test_english_for_a_browser_that_prefers_it(client: FlaskClient) -> None:
    assert_page(client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}), 200, "en")
    assert_page(client.get("/", headers={"Accept-Language": "zh-TW,en;q=0.8"}), 200)


def test_a_parcel_in_transit_shows_status_rail_estimate_place_and_history(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, IN_TRANSIT)
    page = client.get(f"/track/{sno}")
    body = assert_page(page, 200)
    words = text(page)

    assert '<strong id="status" data-status="In Transit">運送中</strong>' in body
    assert body.count("<li class=") >= 5
    assert re.search(r'<li class="current" aria-current="step"><span class="name">運送中', body)
    # The promise: three days after NOW (2026-11-25, a Wednesday) is Saturday 28 November.
    assert "預計11月28日（星期六）送達" in words
    assert '<time datetime="2026-11-28">預計11月28日（星期六）送達</time>' in body
    assert "臺北物流中心" in words
    # Newest first, local time (Asia/Taipei, UTC+8): the events were 4, 3 and 2 hours before NOW.
    times = re.findall(r'<li[^>]*><time datetime="([^"]+)">', body)
    assert times == sorted(times, reverse=True)
    assert times[0] == "2026-11-25T11:00:00+08:00"
    assert "2026年11月25日 11:00" in words
    assert page.headers["Cache-Control"] == "no-cache"
    assert "Content-Security-Policy" in page.headers


def test_the_english_page_says_when_it_arrives_in_words(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, IN_TRANSIT)
    words = text(client.get(f"/track/{sno}", headers={"Accept-Language": "en"}))
    assert "Arrives Saturday 28 November" in words
    assert "In Transit" in words


@pytest.mark.parametrize(
    ("history", "shown"),
    [
        ([*IN_TRANSIT, S.EXCEPTION], "異常"),
        ([*IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_ATTEMPTED], "配送未成功"),
        ([*IN_TRANSIT, S.RETURNED_TO_SENDER], "已退回寄件人"),
    ],
)
def test_a_setback_is_shown_on_the_rail_and_as_the_status(
    client: FlaskClient, container: Container, history: list[Status], shown: str
) -> None:
    body = assert_page(client.get(f"/track/{shipment_with(container, history)}"), 200)
    assert f">{shown}</strong>" in body
    assert '<p class="status setback">' in body
    current = re.search(r'<li class="current setback" aria-current="step">(.*?)</li>', body)
    assert current is not None
    assert shown in current.group(1)


def test_the_recipient_is_masked_exactly_as_the_anonymous_api_masks_it(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, IN_TRANSIT)
    recipient = client.get(f"/query?sno={sno}").get_json()["recipient"]
    words = text(client.get(f"/track/{sno}"))
    assert f"{recipient['name']} · {recipient['phone']}" in words
    assert recipient["address"] in words
    assert "李小明" not in words
    assert "0966123401" not in words
    assert "中正路" not in words


def test_an_unknown_number_gets_an_html_404_with_the_search_form(client: FlaskClient) -> None:
    page = client.get("/track/987654")
    body = assert_page(page, 404)
    assert "找不到訂單編號 987654 的包裹" in text(page)
    assert 'value="987654"' in body
    assert_error(client.get("/query?sno=987654"), 404)  # the JSON route keeps its JSON


@pytest.mark.parametrize("raw", ["12abc", "-1", "1.5", "0", "99999999999999999999"])
def test_a_malformed_number_gets_an_html_400(client: FlaskClient, raw: str) -> None:
    page = client.get(f"/track/{raw}")
    assert_page(page, 400)
    assert "不是訂單編號" in text(page)
    assert_error(client.get(f"/query?sno={raw}"), 400)


@pytest.mark.parametrize("typed", [" 3 ", "３", "\u3000３\u3000", "3\n"])
def test_the_form_forgives_spaces_and_full_width_digits_while_the_api_does_not(
    client: FlaskClient, typed: str
) -> None:
    found = client.get("/track", query_string={"sno": typed})
    assert found.status_code == 303
    assert found.headers["Location"] == "/track/3"
    assert_error(client.get("/query", query_string={"sno": typed}), 400)


def test_the_form_refuses_what_is_not_a_number_with_a_400_page_holding_it(
    client: FlaskClient,
) -> None:
    page = client.get("/track", query_string={"sno": "A12<b>"})
    body = assert_page(page, 400)
    assert 'value="A12&lt;b&gt;"' in body
    assert "<b>" not in body
    empty = client.get("/track", query_string={"sno": "  "})
    assert_page(empty, 400)
    assert "請輸入訂單編號" in text(empty)
    assert client.get("/track").headers["Location"] == "/"


def test_the_short_link_of_notifications_redirects_to_the_page(client: FlaskClient) -> None:
    moved = client.get("/t/42")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/track/42"
    assert client.get("/t/42?lang=en").headers["Location"] == "/track/42?lang=en"


def test_a_path_in_full_width_digits_goes_to_its_page(client: FlaskClient) -> None:
    moved = client.get("/track/%EF%BC%94%EF%BC%92")  # ４２
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/track/42"


def test_a_line_break_in_a_page_path_gets_the_pages_answer_not_routings(
    client: FlaskClient,
) -> None:
    moved = client.get("/t/42%0A")
    assert moved.status_code == 301
    cleaned = client.get(moved.headers["Location"])
    assert cleaned.status_code == 301
    assert cleaned.headers["Location"] == "/track/42"
    refused = client.get("/track/4%0A2")
    assert refused.status_code == 400
    assert refused.content_type.startswith("text/html")


def test_pages_count_against_the_lookup_quota_and_the_429_is_a_page() -> None:
    settings = Settings.from_environ(
        {"LOGISTIC_HOME": "/nonexistent", "LOGISTIC_RATE_LIMIT": "3/minute"}
    )
    limited = memory_container(settings=settings, now=NOW)
    client = create_app(limited).test_client()
    sno = shipment_with(limited, IN_TRANSIT)
    answers = [client.get(f"/track/{sno}"), client.get(f"/query?sno={sno}")]
    answers.append(client.get("/track/12abc"))
    assert [answer.status_code for answer in answers] == [200, 200, 400]
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"

    refused = client.get(f"/track/{sno}")
    assert_page(refused, 429)
    assert refused.headers["Retry-After"].isdigit()
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "請於" in text(refused)
    assert_page(client.get(f"/track/{sno}?lang=en"), 429, "en")  # through Flask too


def test_the_page_is_cached_beside_the_json_and_an_event_drops_it(
    client: FlaskClient, container: Container
) -> None:
    sno = shipment_with(container, IN_TRANSIT)
    first = client.get(f"/track/{sno}")
    cache = container.cache()
    assert cache.get(page_key(sno, "zh-Hant")) == first.data
    assert cache.get(page_key(sno, "en")) is None

    key = key_with(container, Scope.EVENTS_WRITE)
    assert (
        post_event(client, sno, {"status": "Out for Delivery", "location_id": 3}, key).status_code
        == 201
    )

    assert cache.get(page_key(sno, "zh-Hant")) is None
    assert ">配送中</strong>" in client.get(f"/track/{sno}").get_data(as_text=True)


def test_the_stylesheet_and_script_are_immutable_under_hashed_names(client: FlaskClient) -> None:
    body = client.get("/").get_data(as_text=True)
    names = re.findall(r'(?:href|src)="(/assets/page\.[0-9a-f]{12}\.(?:css|js))"', body)
    assert len(names) == 2
    for name in names:
        served = client.get(name)
        assert served.status_code == 200
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert client.get("/assets/page.000000000000.css").status_code == 404


def test_a_tracking_page_with_its_assets_weighs_at_most_40_kb(
    client: FlaskClient, container: Container
) -> None:
    history = [*IN_TRANSIT, *[S.IN_TRANSIT] * 20, S.OUT_FOR_DELIVERY, S.DELIVERY_ATTEMPTED]
    page = client.get(f"/track/{shipment_with(container, history)}")
    assets = re.findall(r'(?:href|src)="(/assets/[^"]+)"', page.get_data(as_text=True))
    weight = len(page.data) + sum(len(client.get(asset).data) for asset in assets)
    assert weight <= 40 * 1024, weight
