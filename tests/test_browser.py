"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against real servers.

The API server and the dashboard run as the user runs them (two processes on loopback
ports); the API samples every 0.2 s and the page polls every 1 s, so each tick brings five
new points, as at the defaults (1 s and 5 s). Without Chromium these tests skip, except
under CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT, Running, free_port, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
TICK_BUDGET_BYTES = 4096
SCREENSHOT = ROOT / "docs" / "dashboard.png"


def browser_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure under CI) naming what is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "Playwright is not installed (pip install -r requirements-dev.txt)"
    if missing is None and not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright


class Api:
    """The API server process, which the tests stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.running: Running | None = None

    def start(self) -> None:
        self.running = Running("performance_api_server.py", "--port", str(self.port), "--interval", "0.2")
        self.running.__enter__()
        wait_until_healthy(f"{self.url}/api/health", self.running.proc)

    def stop(self) -> None:
        if self.running is not None:
            assert self.running.stop() == 0
            self.running.__exit__()
            self.running = None


class Page:
    """One browser page on the dashboard, recording console errors and callback traffic."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.ticks: list[dict[str, int]] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("requestfinished", self._finished)
        page.on("requestfailed", lambda request: self.errors.append(f"failed: {request.url}"))

    def _finished(self, request: Any) -> None:
        if "/_dash-update-component" not in request.url:
            return
        response = request.response()
        sizes = request.sizes()
        self.ticks.append({**sizes, "status": response.status if response else 0})

    def text(self, selector: str) -> str:
        return self.page.inner_text(selector)

    def wait_text(self, selector: str, pattern: str, timeout_s: float = 20) -> str:
        """Wait (letting Playwright dispatch events) until the element's text matches."""
        for _ in range(int(timeout_s * 10)):
            text = self.text(selector)
            if re.search(pattern, text):
                return text
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{selector} never matched {pattern!r}; last text {text!r}")

    def points(self, graph: str = "graph-cpu") -> int:
        """Points in the chart's first trace; 0 until plotly (loaded asynchronously) drew it."""
        return self.page.evaluate(
            f"() => {{ const plot = document.querySelector('#{graph} .js-plotly-plot');"
            " return plot && plot.data ? plot.data[0].x.length : 0; }")

    def wait_points(self, at_least: int, graph: str = "graph-cpu", timeout_s: float = 20) -> int:
        """Wait until the chart holds at least ``at_least`` points."""
        for _ in range(int(timeout_s * 10)):
            if (count := self.points(graph)) >= at_least:
                return count
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{graph} has {self.points(graph)} points, expected {at_least}")


@pytest.fixture(scope="module")
def system() -> Iterator[tuple[Api, str]]:
    api = Api()
    api.start()
    port = free_port()
    with Running("performance_dashboard_http_polling.py", "--port", str(port), "--api-url", api.url,
                 "--poll-interval", "1") as dashboard:
        url = f"http://127.0.0.1:{port}/"
        wait_until_healthy(url + "_dash-layout", dashboard.proc)
        yield api, url
        assert dashboard.stop() == 0
    api.stop()


@pytest.fixture(scope="module")
def page(system: tuple[Api, str]) -> Iterator[Page]:
    sync_playwright = browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1366, "height": 900})
        recorded = Page(tab)
        tab.goto(system[1])
        yield recorded
        browser.close()


def test_the_page_shows_this_machine_from_the_api(page: Page) -> None:
    page.wait_text("#status", "^Connected$")
    assert page.text("#host-name") == platform.node()
    assert re.fullmatch(r"\d+\.\d %", page.text("#kpi-cpu-value"))
    assert re.fullmatch(r"\d+\.\d %", page.text("#kpi-memory-value"))
    assert re.search(r"(KiB|MiB|GiB|TiB) of .* used", page.text("#kpi-memory-sub"))
    page.wait_text("#processes-body", r"\d+ %|\d+\.\d %")
    assert page.text("#disks-body").startswith("/")
    assert page.wait_points(1) > 0 and page.wait_points(1, "graph-cores") > 0


def test_values_update_after_a_tick(page: Page) -> None:
    page.wait_text("#status", "^Connected$")
    before = page.wait_points(1)
    page.wait_points(before + 5)  # 0.2 s sampling: five points a tick; the window keeps 1500
    assert re.fullmatch(r"updated \d+ s ago", page.text("#data-age"))


def test_each_tick_stays_within_the_traffic_budget(page: Page) -> None:
    page.wait_text("#status", "^Connected$")
    first = len(page.ticks)
    page.page.wait_for_timeout(5500)
    steady = page.ticks[first:]
    assert len(steady) >= 3
    totals = [t["requestHeadersSize"] + t["requestBodySize"] + t["responseHeadersSize"]
              + t["responseBodySize"] for t in steady]
    print(f"\nbytes per tick (headers and bodies, both ways): {totals}")
    assert all(t["status"] == 200 for t in steady)
    assert max(totals) <= TICK_BUDGET_BYTES, totals


def test_the_raw_panel_opens_with_the_latest_sample_and_closes(page: Page) -> None:
    assert page.text("#raw-json") == ""
    page.page.click("#raw-open label")
    page.wait_text("#raw-json", r'"instance_id": "[0-9a-f]{12}"')
    page.page.click("#raw-open label")
    page.page.wait_for_timeout(300)
    assert not page.page.is_visible("#raw-json")


def test_the_process_table_switches_to_memory_and_back(page: Page) -> None:
    page.page.click("#process-sort label:has-text('Memory')")
    page.wait_text("#processes-note", "by memory")
    page.page.click("#process-sort label:has-text('CPU')")
    page.wait_text("#processes-note", "by cpu")


def test_screenshot_for_the_readme(page: Page, tmp_path_factory: pytest.TempPathFactory) -> None:
    page.wait_points(50)
    page.wait_text("#processes-body", r"\d")
    shot = tmp_path_factory.mktemp("screens") / "dashboard.png"
    page.page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header belongs at the top
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("PERFMON_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOT)


def test_a_phone_sized_screen_has_no_sideways_scroll(page: Page) -> None:
    page.page.set_viewport_size({"width": 390, "height": 844})
    page.page.wait_for_timeout(500)
    assert page.page.evaluate("() => document.documentElement.scrollWidth") <= 391
    if os.environ.get("PERFMON_UPDATE_SCREENSHOT") == "1":
        page.page.evaluate("() => window.scrollTo(0, 0)")
        page.page.screenshot(path=str(SCREENSHOT.with_name("dashboard-phone.png")), full_page=True)
    page.page.set_viewport_size({"width": 1366, "height": 900})


def test_disconnected_while_the_api_is_down_and_back_after(page: Page, system: tuple[Api, str]) -> None:
    api = system[0]
    page.wait_text("#status", "^Connected$")
    cpu_before = page.text("#kpi-cpu-value")
    api.stop()
    page.wait_text("#status", "^Disconnected$")
    assert "connection refused" in page.text("#status-detail")
    assert "stale" in page.page.get_attribute("#page", "class")
    assert page.text("#kpi-cpu-value") == cpu_before  # the last data stays on screen
    api.start()  # a new instance: the charts start again from its history
    page.wait_text("#status", "^Connected$")
    assert "stale" not in page.page.get_attribute("#page", "class")
    assert 0 < page.wait_points(1) < 60


def test_the_console_stayed_clean_and_no_callback_failed(page: Page) -> None:
    assert page.errors == []
    assert page.ticks and all(t["status"] == 200 for t in page.ticks)
