"""The report dashboard in headless Chromium against the real `logistic serve`: reports of
known figures (written by the report store's own adapter, as the scheduler writes them)
and one made by `logistic report` from orders, drawn with the right numbers; signing in
with a key, once, and out; axe-core finds no WCAG 2.1 A or AA violation; each page is
photographed into build/screenshots/dashboard (LOGISTIC_DOCS_SCREENSHOT=1 also refreshes
docs/dashboard.png)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from logistic.adapters.local_store import LocalDirectoryStore
from logistic.domain.report import LocationCount, Report, ReportFigures, StuckShipments
from logistic.domain.report_slot import ReportSlot
from logistic.domain.status import Status
from logistic.services.reports import JSON
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
from tests.integration.servers import LOGISTIC, ServiceProcess, create_key, running_service

pytestmark = [pytest.mark.slow]

ZONE = "Asia/Taipei"
DOCS_SCREENSHOT = ROOT / "docs" / "dashboard.png"
FIGURES = ReportFigures(
    tracking_summary={
        Status.CREATED: 12, Status.PACKAGE_RECEIVED: 30, Status.IN_TRANSIT: 84,
        Status.OUT_FOR_DELIVERY: 21, Status.DELIVERED: 240, Status.EXCEPTION: 9,
        Status.RETURNED_TO_SENDER: 4,
    },
    total_orders=400,
    by_location=[
        LocationCount(1, "臺北物流中心", 120), LocationCount(4, "桃園物流中心", 60),
        LocationCount(7, "臺中物流中心", 90), LocationCount(12, "高雄物流中心", 130),
    ],
    stuck=StuckShipments(count=7, threshold_hours=72),
    delivered_last_8h=31,
    transit_hours_median=38.5,
    transit_hours_p90=71.25,
    on_time_rate=0.875,
)  # fmt: skip
# Of the 30 slots the known ones cover, these (counted from the oldest) were not published.
GAPS = (5, 6, 20)


def _known(index: int) -> ReportFigures:
    """The figures of the `index`th slot of the trend: known, and different in each."""
    return evolve(FIGURES, total_orders=400 - 3 * (29 - index), on_time_rate=0.5 + index / 80)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with running_service({}, tmp_path_factory.mktemp("dashboard")) as started:
        yield started


@pytest.fixture(scope="module")
def known_slots(service: ServiceProcess) -> list[ReportSlot]:
    """30 slots ending before the latest one, with reports of known figures (but GAPS)."""
    last = ReportSlot.at(datetime.now(UTC), ZONE).previous()
    slots = [last]
    while len(slots) < 30:
        slots.append(slots[-1].previous())
    slots.reverse()
    root = service.home / "reports"
    root.mkdir(exist_ok=True)  # as the composition root makes it at the first report
    store = LocalDirectoryStore(root)
    for index, slot in enumerate(slots):
        if index in GAPS:
            continue
        generated = slot.starts_at_utc + timedelta(seconds=4)
        report = Report(slot, generated, _known(index))
        store.put(slot.key("json"), report.to_json_bytes(), JSON, report.metadata())
    return slots


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def _by(name: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _open(driver: Any, url: str) -> None:
    driver.get(url)


def _submit(driver: Any, button: str) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(_by("TAG_NAME"), "html")
    driver.find_element(_by("CSS_SELECTOR"), button).click()
    # chromedriver may fail a look at the old page's element with another error than
    # "stale" while the document is replaced.
    leaving = WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,))
    leaving.until(expected_conditions.staleness_of(old))


def _bars(driver: Any, chart: str) -> list[tuple[str, str, float]]:
    """Each bar's label, figure and drawn length in CSS pixels, as the browser laid it out."""
    return [
        (bar["label"], bar["value"], bar["width"])
        for bar in driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' g.bar')].map(g => ({"
            "  label: g.querySelector('text.label').textContent,"
            "  value: g.querySelector('text.value').textContent,"
            "  width: g.querySelector('rect').getBoundingClientRect().width}))",
            f"#{chart}",
        )
    ]


def _text(driver: Any, element_id: str) -> str:
    return str(driver.find_element(_by("ID"), element_id).text)


def _sign_in(browser: Any, key: str) -> None:
    browser.find_element(_by("ID"), "key").send_keys(key)
    _submit(browser, "form.sign-in button")


def test_a_report_of_known_figures_is_drawn_with_its_numbers(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any
) -> None:
    shown = known_slots[-1]
    _open(browser, f"{service.url}/dashboard?slot={shown.name}&lang=en")

    assert browser.find_element(_by("TAG_NAME"), "h1").text == (
        f"Report of {shown.day.isoformat()} {shown.hour:02d}:00"
    )
    figures = {
        name: _text(browser, f"figure-{name}")
        for name in ("total", "delivered", "median", "p90", "on-time", "stuck", "exceptions")
    }
    assert figures == {
        "total": "400", "delivered": "31", "median": "38.5 h", "p90": "71.2 h",
        "on-time": f"{(0.5 + 29 / 80) * 100:.1f}%", "stuck": "7", "exceptions": "9",
    }  # fmt: skip
    statuses = _bars(browser, "status-chart")
    assert [(label, value) for label, value, _ in statuses] == [
        ("Created", "12"), ("Package Received", "30"), ("In Transit", "84"),
        ("Out for Delivery", "21"), ("Delivery Attempted", "0"), ("Delivered", "240"),
        ("Returned to Sender", "4"), ("Exception", "9"),
    ]  # fmt: skip
    longest = max(width for _, _, width in statuses)
    for _, value, width in statuses:
        assert width == pytest.approx(longest * int(value) / 240, abs=0.5)
    locations = _bars(browser, "location-chart")
    assert [(label, value) for label, value, _ in locations] == [
        ("臺北物流中心", "120"), ("桃園物流中心", "60"), ("臺中物流中心", "90"),
        ("高雄物流中心", "130"),
    ]  # fmt: skip
    assert locations[1][2] == pytest.approx(locations[3][2] * 60 / 130, abs=0.5)


def test_the_trend_draws_each_published_slot_and_leaves_the_gaps(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any
) -> None:
    _open(browser, f"{service.url}/dashboard?slot={known_slots[-1].name}&lang=en")
    published = [index for index in range(30) if index not in GAPS]

    for chart, figure in (
        ("on-time-chart", lambda index: f"{(0.5 + index / 80) * 100:.2f}".rstrip("0").rstrip(".")),
        ("volume-chart", lambda index: str(400 - 3 * (29 - index))),
    ):
        points = browser.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' circle')].map(c =>"
            "  [c.dataset.slot, c.dataset.value, c.getBoundingClientRect().top])",
            f"#{chart}",
        )
        assert [(slot, value) for slot, value, _ in points] == [
            (known_slots[index].name, figure(index)) for index in published
        ]
        tops = [top for _, _, top in points]
        assert tops == sorted(tops, reverse=True)  # rising figures are drawn ever higher
        lines = browser.find_elements(_by("CSS_SELECTOR"), f"#{chart} polyline")
        assert len(lines) == 3  # broken at the gaps: 0-4, 7-19, 21-29
    rows = browser.find_elements(_by("CSS_SELECTOR"), "#trend-table tbody tr")
    assert len(rows) == 30
    assert "not published" in rows[GAPS[0]].get_attribute("textContent")


def test_a_report_made_from_orders_is_the_dashboard_s_latest(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any
) -> None:
    made = service.request("GET", "/fake?num=40")
    assert made.status == 200
    subprocess.run(
        [str(LOGISTIC), "report"], env=service.env, cwd=service.home, timeout=60, check=True,
        capture_output=True,
    )  # fmt: skip
    latest = known_slots[-1].next()
    published = service.get(f"/reports/{latest.name}").json()

    _open(browser, f"{service.url}/dashboard?lang=en")

    assert browser.find_element(_by("ID"), "dashboard").get_attribute("data-slot") == latest.name
    assert _text(browser, "figure-total") == str(published["total_orders"]) != "0"
    counts = {label: value for label, value, _ in _bars(browser, "status-chart")}
    assert sum(int(value) for value in counts.values()) == published["total_orders"]
    assert counts["Delivered"] == str(published["trackingSummary"]["Delivered"])
    by_place = [(label, int(value)) for label, value, _ in _bars(browser, "location-chart")]
    assert by_place == [(row["title"], row["count"]) for row in published["by_location"]]
    points = browser.find_elements(_by("CSS_SELECTOR"), "#volume-chart circle")
    assert points[-1].get_attribute("data-value") == str(published["total_orders"])


def test_a_bad_or_unknown_slot_gets_a_page_that_helps(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any
) -> None:
    _open(browser, f"{service.url}/dashboard?slot=2026-11-25T0900&lang=en")
    assert browser.find_element(_by("TAG_NAME"), "h1").text == "Not a report slot"
    assert service.get("/dashboard?slot=2026-11-25T0900").status == 400
    gap = known_slots[GAPS[0]]
    _open(browser, f"{service.url}/dashboard?slot={gap.name}&lang=en")
    assert browser.find_element(_by("TAG_NAME"), "h1").text == "No such report"
    assert service.get(f"/dashboard?slot={gap.name}").status == 404
    _submit(browser, "#latest")  # the way back is a link; the helper waits for the page
    assert browser.find_element(_by("ID"), "dashboard")


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_every_dashboard_page_passes_axe_fits_a_phone_and_is_photographed(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any, axe: str, lang: str
) -> None:
    pages = {
        "dashboard": f"/dashboard?slot={known_slots[-1].name}&lang={lang}",
        "dashboard-bad-slot": f"/dashboard?slot=tomorrow&lang={lang}",
        "dashboard-no-report": f"/dashboard?slot={known_slots[GAPS[0]].name}&lang={lang}",
    }
    found: dict[str, Any] = {}
    folder = SCREENSHOTS / "dashboard"
    for page, path in pages.items():
        for label, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            viewport(browser, width, height)
            _open(browser, f"{service.url}{path}")
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
    if (os.environ.get("LOGISTIC_DOCS_SCREENSHOT"), lang) == ("1", "en"):
        shutil.copyfile(folder / "dashboard-en-desktop.png", DOCS_SCREENSHOT)


def test_a_key_is_asked_once_and_signing_out_asks_again(
    service: ServiceProcess, known_slots: list[ReportSlot], browser: Any, axe: str
) -> None:
    key = create_key(service, "reports:read")
    other = create_key(service, "events:write")
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    slot = known_slots[-1].name
    _open(browser, f"{service.url}/dashboard?slot={slot}&lang=en")
    assert browser.find_element(_by("TAG_NAME"), "h1").text == "Sign in to the reports"
    assert axe_violations(browser, axe) == []
    assert service.get("/dashboard").status == 401

    _sign_in(browser, "lgk_not-a-key")
    assert "That key is not valid" in _text(browser, "key-notice")
    assert axe_violations(browser, axe) == []
    _sign_in(browser, other)
    assert "lacks reports:read" in _text(browser, "key-notice")
    _sign_in(browser, key)

    assert browser.current_url == f"{service.url}/dashboard?slot={slot}&lang=en"
    assert _text(browser, "figure-total") == "400"
    cookies = browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    (session,) = [cookie for cookie in cookies if cookie["name"] == "logistic_session"]
    assert (session["httpOnly"], session["sameSite"], session["path"]) == (
        True, "Strict", "/dashboard",
    )  # fmt: skip
    assert key not in session["value"]
    _open(browser, f"{service.url}/dashboard?lang=en")  # kept: not asked again
    assert browser.find_element(_by("ID"), "dashboard")
    assert axe_violations(browser, axe) == []

    _submit(browser, "#sign-out")

    assert browser.find_element(_by("TAG_NAME"), "h1").text == "Sign in to the reports"
    cookies = browser.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    assert "logistic_session" not in {cookie["name"] for cookie in cookies}


def test_the_secret_that_signs_sessions_is_kept_for_the_next_start(
    service: ServiceProcess,
) -> None:
    secret = Path(service.home / "secret-key")
    assert secret.stat().st_mode & 0o777 == 0o600
    assert len(secret.read_text().strip()) == 64
