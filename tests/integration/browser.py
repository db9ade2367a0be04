"""Headless Chromium for the page tests: Debian's chromium and chromedriver through
Selenium (no browser is downloaded), axe-core injected into a page, and screenshots.

Locally a missing browser or axe-core skips the tests that need them, with the reason;
under CI=true it fails them (.ci/run installs both).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.services import require

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NPM_FOLDER = ROOT / "tests" / "browser"
AXE = NPM_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
# Where the tests leave a screenshot of each page (make test prints it).
SCREENSHOTS = ROOT / "build" / "screenshots"
DESKTOP = (1280, 900)
PHONE = (360, 740)
# The rules of WCAG 2.1 levels A and AA, as axe-core tags them.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def browser_problem() -> str | None:
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not binary.exists():
            return f"{binary} is missing (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def axe_source() -> str:
    """axe-core's script, installed from tests/browser/package-lock.json when missing."""
    if not AXE.exists() and shutil.which("npm") is not None:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(NPM_FOLDER)],
            cwd=NPM_FOLDER,
            capture_output=True,
            timeout=300,
            check=False,
        )
    require("axe-core", None if AXE.exists() else f"{AXE} missing (npm ci in {NPM_FOLDER})")
    return AXE.read_text()


@contextmanager
def chromium(javascript: bool = True) -> Iterator[Any]:
    """A headless Chromium driven by chromedriver, at desktop size; quit on exit."""
    require("Chromium", browser_problem())
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--no-first-run",
        "--lang=zh-TW",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(argument)
    prefs: dict[str, Any] = {"intl.accept_languages": "zh-TW,zh"}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver: Any, width: int, height: int) -> None:
    """The page laid out as on a screen `width` CSS pixels wide (a phone's is a mobile one)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def horizontal_overflow(driver: Any) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no horizontal scroll)."""
    return int(
        driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def screenshot(driver: Any, path: Path, width: int, height: int) -> Path:
    """The whole page, `width` wide, as a PNG at `path`; the viewport is left at that width."""
    viewport(driver, width, height)
    full = int(driver.execute_script("return document.documentElement.scrollHeight"))
    viewport(driver, width, max(height, full))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(driver.get_screenshot_as_png())
    viewport(driver, width, height)
    return path


def axe_violations(driver: Any, source: str) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.1 A and AA on the page open in `driver`."""
    driver.execute_script(source)
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        "  .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "    nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))),"
        "        e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
        WCAG_21_AA,
    )
    return list(result)
