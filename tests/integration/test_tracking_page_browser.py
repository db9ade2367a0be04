"""The tracking pages in a real browser (headless Chromium) against the real `logistic serve`,
on the embedded default and on MariaDB + Redis: a person finds a parcel by its number,
in Chinese or English, with or without JavaScript, on a phone or a desktop; the page
updates itself; axe-core finds no WCAG 2.1 A or AA violation; each page is photographed
into build/screenshots/ (LOGISTIC_DOCS_SCREENSHOT=1 also refreshes docs/tracking-page.png).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.integration.browser import (
    DESKTOP,
    PHONE,
    ROOT,
    SCREENSHOTS,
    axe_source,
    axe_violations,
    chromium,
    horizontal_overflow,
    screenshot,
    viewport,
)
from tests.integration.tracking_site import REFRESH_SECONDS, Site
from tests.integration.tracking_site import site as site

pytestmark = [pytest.mark.slow]

UNKNOWN = 999_999_999
DOCS_SCREENSHOT = ROOT / "docs" / "tracking-page.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture(autouse=True)
def no_language_kept(request: pytest.FixtureRequest) -> None:
    """Each test starts without the `lang` cookie a test before it left (cookies belong to
    127.0.0.1 whatever the port, so to both services)."""
    if "browser" in request.fixturenames:
        request.getfixturevalue("browser").execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def _by(name: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _wait(driver: Any, seconds: float, condition: Any) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws itself when news comes: an element found a moment ago may be gone.
    stale = (StaleElementReferenceException,)
    return WebDriverWait(driver, seconds, poll_frequency=0.1, ignored_exceptions=stale).until(
        condition
    )


def _open(driver: Any, url: str) -> None:
    driver.get(url)
    _wait(driver, 10, lambda d: d.execute_script("return document.readyState") == "complete")


def _search(driver: Any, typed: str) -> None:
    field = driver.find_element(_by("ID"), "sno")
    field.clear()
    field.send_keys(typed)
    _submitted(
        driver, lambda: driver.find_element(_by("CSS_SELECTOR"), "form.search button").click()
    )


def _submitted(driver: Any, submit: Any) -> None:
    """`submit()` a form, then wait for the next page: the old one gone, the new one loaded."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(_by("TAG_NAME"), "html")
    submit()
    # While the old document is replaced, chromedriver may fail a look at its element
    # with another error than "stale" ("Node ... does not belong to the document").
    leaving = WebDriverWait(
        driver, 10, poll_frequency=0.1, ignored_exceptions=(WebDriverException,)
    )
    leaving.until(expected_conditions.staleness_of(old))
    _wait(driver, 10, lambda d: d.execute_script("return document.readyState") == "complete")


def _days_zh(first: date, last: date) -> str:
    """How the page writes a span of days in Chinese: 12月9日至11日, 11月30日至12月2日."""
    end = f"{last.day}日" if last.month == first.month else f"{last.month}月{last.day}日"
    return f"{first.month}月{first.day}日至{end}"


def _text(driver: Any, element_id: str) -> str:
    return str(driver.find_element(_by("ID"), element_id).text)


def test_a_person_finds_a_parcel_by_its_number(site: Site, browser: Any) -> None:
    sno = site.order()
    viewport(browser, *DESKTOP)
    _open(browser, site.url("/"))
    assert browser.find_element(_by("TAG_NAME"), "html").get_attribute("lang") == "zh-Hant"

    _search(browser, f"  {sno} ")

    assert browser.current_url == site.url(f"/track/{sno}")
    status = browser.find_element(_by("ID"), "status")
    assert (status.get_attribute("data-status"), status.text) == ("In Transit", "運送中")
    steps = browser.find_elements(_by("CSS_SELECTOR"), ".rail li")
    assert [step.get_attribute("class") for step in steps] == [
        "done", "done", "current", "ahead", "ahead",
    ]  # fmt: skip
    assert steps[2].get_attribute("aria-current") == "step"
    estimate = _text(browser, "estimate")
    assert estimate.startswith("預計"), estimate
    assert estimate.endswith("送達"), estimate
    window = site.json(f"/query?sno={sno}")["estimated_delivery_window"]
    first, last = (date.fromisoformat(window[end]) for end in ("earliest", "latest"))
    assert _text(browser, "estimate-window") == f"十次有九次在{_days_zh(first, last)}間送達"
    recipient = site.json(f"/query?sno={sno}")["recipient"]
    assert _text(browser, "recipient") == (
        f"{recipient['name']} · {recipient['phone']}\n{recipient['address']}"
    )
    assert "中心" in _text(browser, "location")


def test_a_mistyped_number_is_helped_and_a_wrong_one_explained(site: Site, browser: Any) -> None:
    sno = site.order()
    _open(browser, site.url("/"))
    _search(
        browser, "\u3000" + str(sno).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    )
    assert browser.current_url == site.url(f"/track/{sno}")

    _search(browser, "12abc")
    assert browser.find_element(_by("TAG_NAME"), "h1").text == "訂單編號格式不正確"
    assert "「12abc」不是訂單編號" in browser.page_source
    assert site.service.get("/track?sno=12abc").status == 400

    _search(browser, str(UNKNOWN))
    assert browser.find_element(_by("TAG_NAME"), "h1").text == "查無此訂單"
    assert site.service.get(f"/track/{UNKNOWN}").status == 404
    assert site.service.get(f"/query?sno={UNKNOWN}").content_type.startswith("application/json")


def test_english_is_asked_for_once_and_kept(site: Site, browser: Any) -> None:
    sno = site.order()
    _open(browser, site.url("/?lang=en"))
    assert browser.find_element(_by("TAG_NAME"), "html").get_attribute("lang") == "en"
    _search(browser, str(sno))
    assert browser.find_element(_by("TAG_NAME"), "html").get_attribute("lang") == "en"
    assert _text(browser, "status") == "In Transit"
    assert _text(browser, "estimate").startswith("Arrives ")
    window = _text(browser, "estimate-window")
    assert window.startswith("arrives "), window
    assert window.endswith(", nine times in ten"), window
    _submitted(browser, browser.find_element(_by("CSS_SELECTOR"), "a.switch").click)
    _wait(
        browser,
        10,
        lambda d: d.find_element(_by("TAG_NAME"), "html").get_attribute("lang") == "zh-Hant",
    )
    assert _text(browser, "status") == "運送中"


def test_an_event_recorded_appears_on_the_open_page_without_a_reload(
    site: Site, browser: Any
) -> None:
    sno = site.order()
    _open(browser, site.url(f"/track/{sno}"))
    browser.execute_script("window.notReloaded = true")

    site.record(sno, "Out for Delivery")

    # One polling interval, and a little for the redraw's own request on a busy machine.
    _wait(
        browser,
        REFRESH_SECONDS + 2,
        lambda d: (
            d.find_element(_by("ID"), "status").get_attribute("data-status") == "Out for Delivery"
        ),
    )
    assert browser.execute_script("return window.notReloaded === true")
    # Read in one script: the next poll may redraw the page between two WebDriver calls.
    live, announced, step = browser.execute_script(
        "const live = document.getElementById('live');"
        "const step = document.querySelector('.rail li[aria-current=step]');"
        "return [live.innerText.trim(), live.textContent, step.innerText];"
    )
    assert live == "" or "配送中" in announced
    assert step.startswith("配送中")


# Wraps the page's fetch before its script runs: records each /query request's
# If-None-Match and the real server's answer to it.
CONDITIONAL = """
window.queries = [];
const original = window.fetch.bind(window);
window.fetch = async (input, init) => {
  if (!String(input).startsWith("/query")) { return original(input, init); }
  const sent = new Headers((init && init.headers) || {}).get("If-None-Match");
  const response = await original(input, init);
  window.queries.push({sent: sent, status: response.status, etag: response.headers.get("ETag")});
  return response;
};
"""


def test_the_page_asks_with_the_etag_it_was_given_and_the_server_answers_304(site: Site) -> None:
    sno = site.order()
    with chromium() as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CONDITIONAL})
        _open(driver, site.url(f"/track/{sno}"))
        driver.execute_script("document.getElementById('tracking').dataset.drawn = 'first'")
        _wait(driver, REFRESH_SECONDS * 6, lambda d: d.execute_script("return queries.length") >= 4)
        queries = driver.execute_script("return queries")

        assert queries[0]["sent"] is None
        assert queries[0]["status"] == 200
        assert queries[0]["etag"], "the server sent no ETag with /query"
        for before, after in itertools.pairwise(queries):
            assert after["sent"] == before["etag"], queries
            assert after["status"] == 304, queries
        # Nothing changed: the section was never redrawn.
        assert driver.execute_script("return document.getElementById('tracking').dataset.drawn")

        site.record(sno, "Out for Delivery")
        _wait(
            driver,
            REFRESH_SECONDS + 2,
            lambda d: (
                d.find_element(_by("ID"), "status").get_attribute("data-status")
                == "Out for Delivery"
            ),
        )
        assert driver.execute_script("return queries")[-1]["status"] == 200


def test_the_recipient_sees_their_whole_name_for_the_last_four_digits(
    site: Site, browser: Any
) -> None:
    sno = site.order()
    whole = site.json(f"/query?sno={sno}", keyed=True)["recipient"]
    _open(browser, site.url(f"/track/{sno}"))
    field = browser.find_element(_by("ID"), "digits")
    field.send_keys(whole["phone"][-4:])
    _submitted(browser, field.submit)
    _wait(browser, 10, lambda d: whole["name"] in d.find_element(_by("ID"), "recipient").text)
    assert whole["address"] in _text(browser, "recipient")


def test_wrong_digits_are_limited_per_order_and_per_client(site: Site) -> None:
    first, second = site.order(), site.order()
    digits = {
        sno: site.json(f"/query?sno={sno}", keyed=True)["recipient"]["phone"][-4:]
        for sno in (first, second)
    }

    def tried(sno: int, client: str, typed: str) -> int:
        wrong = typed if typed else ("0000" if digits[sno] != "0000" else "1111")
        reply = site.service.request(
            "POST",
            f"/track/{sno}",
            headers={
                "X-Forwarded-For": client,
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=f"digits={wrong}".encode(),
        )
        assert reply.content_type == "text/html; charset=utf-8"
        assert reply.header("Cache-Control") == "private, no-store"
        return reply.status

    assert [tried(first, "10.9.0.1", "") for _ in range(5)] == [403] * 5
    assert tried(first, "10.9.0.2", digits[first]) == 429  # five tries of this order
    assert tried(second, "10.9.0.1", digits[second]) == 429  # five tries of this client
    assert tried(second, "10.9.0.3", digits[second]) == 200


def test_the_pages_work_with_javascript_off(site: Site) -> None:
    sno = site.order()
    with chromium(javascript=False) as driver:
        _open(driver, site.url("/"))
        assert driver.execute_script("return 1") == 1  # the test's own scripts still run
        _search(driver, str(sno))
        assert driver.current_url == site.url(f"/track/{sno}")
        assert _text(driver, "status") == "運送中"
        note = driver.find_elements(_by("CSS_SELECTOR"), "[data-refresh-note]")
        assert all(not element.is_displayed() for element in note)  # the script never ran
        whole = site.json(f"/query?sno={sno}", keyed=True)["recipient"]
        field = driver.find_element(_by("ID"), "digits")
        field.send_keys(whole["phone"][-4:])
        _submitted(driver, field.submit)
        _wait(driver, 10, lambda d: whole["name"] in d.find_element(_by("ID"), "recipient").text)


def test_on_paper_the_page_keeps_the_parcel_and_drops_the_forms(site: Site, browser: Any) -> None:
    sno = site.order()
    _open(browser, site.url(f"/track/{sno}"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = {
            selector: browser.find_element(_by("CSS_SELECTOR"), selector).is_displayed()
            for selector in ("#tracking", ".rail", ".history", ".reveal", ".again", "header")
        }
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert shown == {
        "#tracking": True, ".rail": True, ".history": True,
        ".reveal": False, ".again": False, "header": False,
    }  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_every_page_passes_axe_fits_a_phone_and_is_photographed(
    site: Site, browser: Any, axe: str, lang: str
) -> None:
    sno = site.order("Out for Delivery")
    pages = {
        "search": "/",
        "tracking": f"/track/{sno}",
        "not-found": f"/track/{UNKNOWN}",
        "bad-number": "/track?sno=12abc",
    }
    _open(browser, site.url(f"/?lang={lang}"))  # the cookie keeps it for the others
    found: dict[str, Any] = {}
    folder = SCREENSHOTS / site.name
    for page, path in pages.items():
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            viewport(browser, width, height)
            _open(browser, site.url(path))
            assert browser.find_element(_by("TAG_NAME"), "html").get_attribute("lang") == lang
            violations = axe_violations(browser, axe)
            if violations:
                found[f"{page} {label}"] = violations
            if label == "phone":
                assert horizontal_overflow(browser) == 0, f"{page} scrolls sideways on a phone"
            shot = screenshot(browser, folder / f"{page}-{lang}-{label}.png", width, height)
            assert shot.stat().st_size > 1000
    viewport(browser, *DESKTOP)
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
    wanted = (os.environ.get("LOGISTIC_DOCS_SCREENSHOT"), site.name, lang)
    if wanted == ("1", "embedded", "zh-Hant"):
        shutil.copyfile(folder / "tracking-zh-Hant-desktop.png", DOCS_SCREENSHOT)
