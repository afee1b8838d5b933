"""Signing in to the dashboard in real Chromium, under its Content-Security-Policy.

The API server and the dashboard run as the user runs them, two processes sharing a token
through ``PERFMON_TOKEN``. The browser signs in through the form, watches the dashboard for
a few ticks and signs out; another test restarts the dashboard and offers the signed-out
cookie again, and signs out everywhere. Any CSP violation fails the test: Chromium reports each as a
console error, and a ``securitypolicyviolation`` listener added before the page's own scripts
records it as well. Waits use Playwright's ``expect`` and request events, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, POLL_PATH, playwright_or_skip
from tests.support.processes import Running, free_port, http_get, wait_for, wait_until_healthy

TOKEN = "browser-test-token-0123456789abcdef"
TICKS = 3
VIOLATIONS_JS = """document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI);
});"""


@pytest.fixture(scope="module")
def dashboard_url() -> Iterator[str]:
    """The API and the dashboard, both with the token; the dashboard's URL."""
    env = {**os.environ, "PERFMON_TOKEN": TOKEN}
    api_port, port = free_port(), free_port()
    with Running("performance_api_server.py", "--port", str(api_port), "--interval", "0.2", env=env) as api:
        wait_until_healthy(f"http://127.0.0.1:{api_port}/api/health", api.proc)
        with Running("performance_dashboard_http_polling.py", "--port", str(port), "--api-url",
                     f"http://127.0.0.1:{api_port}", "--poll-interval", "1", env=env) as dashboard:
            url = f"http://127.0.0.1:{port}/"
            wait_for(lambda: answers(url + "login"), "login page")
            yield url
            assert dashboard.stop() == 0, dashboard.stderr()
        assert api.stop() == 0


def answers(url: str) -> bool:
    try:
        return http_get(url, timeout=2)[0] == 200
    except OSError:
        return False


@pytest.fixture
def tab(dashboard_url: str) -> Iterator[Any]:
    """A new browser (empty cookie jar) recording every console message and every CSP violation."""
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context().new_page()
        messages: list[tuple[str, str]] = []
        page.on("console", lambda message: messages.append((message.type, message.text)))
        page.on("pageerror", lambda error: messages.append(("error", str(error))))
        page.add_init_script(VIOLATIONS_JS)
        yield page, sync_api.expect, messages
        browser.close()


def test_sign_in_watch_the_dashboard_without_csp_violations_and_sign_out(tab: Any,
                                                                         dashboard_url: str) -> None:
    page, expect, messages = tab
    page.goto(dashboard_url)
    expect(page).to_have_url(re.compile(r"/login$"))
    page.fill("#token", "not-the-token-at-all-0123")
    page.click("button[type=submit]")
    expect(page.locator(".problem")).to_have_text("Wrong token.")
    errors = [text for kind, text in messages if kind == "error"]
    assert errors == ["Failed to load resource: the server responded with a status of 401 (Unauthorized)"]
    messages.clear()  # Chromium's line for the page of a 401: that one is expected
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    expect(page).to_have_url(dashboard_url)
    expect(page.locator("#status")).to_have_text("Connected")
    for _ in range(TICKS):  # the page runs: ticks, charts, the clock
        with page.expect_request_finished(lambda request: POLL_PATH in request.url):
            pass
    expect(page.locator("#kpi-cpu-value")).to_have_text(re.compile(r"^\d+\.\d %$"))
    page.hover("#graph-cores")  # plotly's PNG of a chart is drawn through a blob: image
    with page.expect_download() as download:
        page.locator("#graph-cores .modebar-btn[data-title='Download plot as a PNG']").click()
    assert download.value.suggested_filename.endswith(".png")
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script of the page reads the session
    assert TOKEN not in page.content()
    assert page.evaluate("window.__csp || []") == []
    errors = [text for kind, text in messages if kind == "error"]
    assert errors == [], errors
    assert not [text for _, text in messages if "Content Security Policy" in text]
    page.click("form.logout button[value=this]")  # a POST from the page, under its CSP
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#token")).to_be_visible()
    page.goto(dashboard_url)  # the session is over: back to the form
    expect(page).to_have_url(re.compile(r"/login$"))
    assert [text for kind, text in messages if kind == "error"] == []


def sign_in(page: Any, expect: Any, url: str) -> None:
    page.goto(url)
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    expect(page).to_have_url(url)
    expect(page.locator("#status")).to_have_text("Connected")


def test_a_signed_out_cookie_stays_out_after_a_restart_and_everywhere_ends_every_tab(tmp_path: Path) -> None:
    sync_api = playwright_or_skip()
    env = {**os.environ, "PERFMON_TOKEN": TOKEN}
    api_port, port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/"

    def dashboard() -> Running:  # one data directory across restarts, as a service has
        running = Running("performance_dashboard_http_polling.py", "--port", str(port), "--api-url",
                          f"http://127.0.0.1:{api_port}", env={**env, "PERFMON_DATA_DIR": str(tmp_path)})
        try:  # a start on a loaded machine can take a while; one that ended says why
            wait_for(lambda: running.proc.poll() is not None or answers(url + "login"), "login page", 30)
            assert running.proc.poll() is None, running.stderr()
        except AssertionError:
            running.__exit__()
            raise
        return running

    with Running("performance_api_server.py", "--port", str(api_port), env=env) as api, \
            sync_api.sync_playwright() as playwright:
        wait_until_healthy(f"http://127.0.0.1:{api_port}/api/health", api.proc)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page, other = browser.new_context().new_page(), browser.new_context().new_page()
        expect = sync_api.expect
        with dashboard() as first:
            sign_in(page, expect, url)
            sign_in(other, expect, url)
            saved = page.context.cookies()
            page.click("form.logout button[value=this]")
            expect(page).to_have_url(re.compile(r"/login$"))
            assert first.stop() == 0, first.stderr()
        with dashboard() as second:
            page.context.add_cookies(saved)  # the signed-out cookie, offered again
            page.goto(url)
            expect(page).to_have_url(re.compile(r"/login$"))
            other.goto(url)  # the other browser never signed out: still in
            expect(other.locator("#status")).to_have_text("Connected")
            sign_in(page, expect, url)
            other.click("form.logout button[value=everywhere]")
            expect(other).to_have_url(re.compile(r"/login$"))
            page.goto(url)  # its session ended too
            expect(page).to_have_url(re.compile(r"/login$"))
            assert second.stop() == 0, second.stderr()
        browser.close()
