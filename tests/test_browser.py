"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against real servers.

The API server and the dashboard run as the user runs them (two processes on loopback
ports); the API samples every 0.2 s and the page polls every 1 s, so each tick brings five
new points, as at the defaults (1 s and 5 s). Each test opens its own tab, waits with
Playwright's ``expect`` and ``wait_for_function`` (never a fixed sleep), and leaves the
servers as it found them, so the tests run in any order; every tab must end with a clean
console and no failed callback. Without Chromium these tests skip, except under CI
(``CI=true``), where a missing browser is a failure.
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
TIMEOUT_MS = 20_000
SCREENSHOT = ROOT / "docs" / "dashboard.png"
POLL_PATH = "/_dash-update-component"


def playwright_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure under CI) naming what is missing."""
    missing = None
    try:
        from playwright import sync_api
    except ImportError:
        missing = "Playwright is not installed (pip install -r requirements-dev.txt)"
    if missing is None and not CHROMIUM.exists():
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    sync_api.expect.set_options(timeout=TIMEOUT_MS)
    return sync_api


class Api:
    """The API server process, which a test may stop and start again on the same port."""

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
    """One browser tab on the dashboard, recording console errors and callback traffic."""

    def __init__(self, page: Any, expect: Any) -> None:
        self.page = page
        self.expect = expect
        self.errors: list[str] = []
        self.ticks: list[dict[str, int]] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("requestfinished", self._finished)
        page.on("requestfailed", lambda request: self.errors.append(f"failed: {request.url}"))

    def _finished(self, request: Any) -> None:
        if POLL_PATH not in request.url:
            return
        response = request.response()
        self.ticks.append({**request.sizes(), "status": response.status if response else 0})

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def shows(self, selector: str, pattern: str) -> None:
        """Wait until the element's text matches ``pattern`` (a regular expression)."""
        self.expect(self.page.locator(selector)).to_have_text(re.compile(pattern))

    def points(self, graph: str = "graph-cpu") -> int:
        """Points in the chart's first trace; 0 until plotly (loaded asynchronously) drew it."""
        return int(self.page.evaluate(POINTS_JS, graph))

    def wait_points(self, at_least: int, graph: str = "graph-cpu") -> int:
        """Wait until the chart holds at least ``at_least`` points; return how many it holds."""
        self.page.wait_for_function(f"([graph, n]) => ({POINTS_JS})(graph) >= n", arg=[graph, at_least],
                                    timeout=TIMEOUT_MS)
        return self.points(graph)

    def next_tick(self) -> None:
        """Wait for the page's next poll to finish."""
        with self.page.expect_request_finished(lambda request: POLL_PATH in request.url,
                                               timeout=TIMEOUT_MS):
            pass


POINTS_JS = ("(graph) => { const plot = document.querySelector('#' + graph + ' .js-plotly-plot');"
             " return plot && plot.data ? plot.data[0].x.length : 0; }")


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
def browser() -> Iterator[tuple[Any, Any]]:
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched, sync_api.expect
        launched.close()


@pytest.fixture
def page(browser: tuple[Any, Any], system: tuple[Api, str]) -> Iterator[Page]:
    """A new tab on the dashboard, Connected; afterwards its console must be clean."""
    launched, expect = browser
    context = launched.new_context(viewport={"width": 1366, "height": 900})
    tab = Page(context.new_page(), expect)
    tab.page.goto(system[1])
    tab.shows("#status", "^Connected$")
    yield tab
    context.close()
    assert tab.errors == [], f"console errors: {tab.errors}"
    assert all(t["status"] == 200 for t in tab.ticks), tab.ticks


def test_the_page_shows_this_machine_from_the_api(page: Page) -> None:
    assert page.text("#host-name") == platform.node()
    page.shows("#kpi-cpu-value", r"^\d+\.\d %$")
    page.shows("#kpi-memory-value", r"^\d+\.\d %$")
    page.shows("#kpi-memory-sub", r"(KiB|MiB|GiB|TiB) of .* used")
    page.shows("#processes-body", r"\d+ %|\d+\.\d %")
    page.shows("#disks-body", r"^/")
    assert page.wait_points(1) > 0 and page.wait_points(1, "graph-cores") > 0
    title = page.page.get_attribute("#kpi-memory", "title")  # hovering a card says what it shows
    assert title == "memory in use, as a share of the total"  # from the schema table


def test_values_update_after_a_tick(page: Page) -> None:
    before = page.wait_points(1)
    page.wait_points(before + 5)  # 0.2 s sampling: five points a tick; the window keeps 1500
    page.shows("#data-age", r"^updated \d+ s ago$")


def test_each_tick_stays_within_the_traffic_budget(page: Page) -> None:
    page.wait_points(1)
    first = len(page.ticks)
    for _ in range(3):
        page.next_tick()
    steady = page.ticks[first:]
    totals = [t["requestHeadersSize"] + t["requestBodySize"] + t["responseHeadersSize"]
              + t["responseBodySize"] for t in steady]
    print(f"\nbytes per tick (headers and bodies, both ways): {totals}")
    assert len(steady) >= 3 and all(t["status"] == 200 for t in steady)
    assert max(totals) <= TICK_BUDGET_BYTES, totals


def test_the_raw_panel_opens_with_the_latest_sample_and_closes(page: Page) -> None:
    assert page.text("#raw-json") == ""
    page.page.click("#raw-open label")
    page.shows("#raw-json", r'"instance_id": "[0-9a-f]{12}"')
    page.page.click("#raw-open label")
    page.expect(page.page.locator("#raw-json")).to_be_hidden()


def test_the_process_table_switches_to_memory_and_back(page: Page) -> None:
    page.page.click("#process-sort label:has-text('Memory')")
    page.shows("#processes-note", "by memory")
    page.page.click("#process-sort label:has-text('CPU')")
    page.shows("#processes-note", "by cpu")


def test_screenshot_for_the_readme(page: Page, tmp_path_factory: pytest.TempPathFactory) -> None:
    page.wait_points(50)
    page.shows("#processes-body", r"\d")
    shot = tmp_path_factory.mktemp("screens") / "dashboard.png"
    page.page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header belongs at the top
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("PERFMON_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENSHOT)


def test_a_phone_sized_screen_has_no_sideways_scroll(page: Page) -> None:
    page.page.set_viewport_size({"width": 390, "height": 844})
    page.page.wait_for_function("() => document.documentElement.clientWidth <= 390", timeout=TIMEOUT_MS)
    page.page.wait_for_function("() => document.documentElement.scrollWidth <= 391", timeout=TIMEOUT_MS)
    if os.environ.get("PERFMON_UPDATE_SCREENSHOT") == "1":
        page.wait_points(20)
        page.page.evaluate("() => window.scrollTo(0, 0)")
        page.page.screenshot(path=str(SCREENSHOT.with_name("dashboard-phone.png")), full_page=True)


def test_disconnected_while_the_api_is_down_and_back_after(page: Page, system: tuple[Api, str]) -> None:
    api = system[0]
    page.shows("#kpi-cpu-value", r"%$")
    cpu_before = page.text("#kpi-cpu-value")
    api.stop()
    try:
        page.shows("#status", "^Disconnected$")
        page.shows("#status-detail", "connection refused")
        page.expect(page.page.locator("#page")).to_have_class(re.compile(r"\bstale\b"))
        assert page.text("#kpi-cpu-value") == cpu_before  # the last data stays on screen
    finally:
        api.start()  # a new instance: the charts start again from its history
    page.shows("#status", "^Connected$")
    page.expect(page.page.locator("#page")).not_to_have_class(re.compile(r"\bstale\b"))
    assert 0 < page.wait_points(1) < 60
