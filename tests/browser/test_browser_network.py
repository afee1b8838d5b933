"""The dashboard's page in Chromium asks for no WebSocket, reaches network idle, and still updates.

Dash 4.4's FastAPI backend put a WebSocket into the page's config, and the renderer's
SharedWorker asked for it every 5-10 s (12 refused upgrades a minute per tab). Here the
page loads to ``networkidle`` and is watched for 30 s: no WebSocket in the page
(``page.on("websocket")``) and no upgrade request at the server (the dashboard's ASGI app
is wrapped by a counter, which also counts the polls and their statuses), while the CPU
chart fills more points and the console stays clean. The server's count is the one that
caught the worker: before the fix it saw 6 upgrades in the 30 s, while the page's own
events (a SharedWorker is not the page) saw none. The API is a real process sampling every
0.2 s; the dashboard runs in this process on its real uvicorn server, polling every second.
Skips without Chromium, except under ``CI=true``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig
from perfmon.ui.app import create_dashboard
from perfmon.ui.edge.plumbing import Asgi, Receive, Scope, Send, header
from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS, FILLED_JS, POLL_PATH, Api, playwright_or_skip

WATCH_MS = 30_000
TIMEOUT_MS = 30_000


class Counting:
    """The dashboard's ASGI app, counting what reaches it: upgrades, polls and their statuses."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.upgrades = 0
        self.statuses: Counter[int] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" or (scope["type"] == "http" and header(scope, b"upgrade")):
            self.upgrades += 1
        if scope["type"] != "http" or scope["path"] != POLL_PATH:
            await self.app(scope, receive, send)
            return

        async def counted(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counted)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Counting]]:
    api = Api()
    api.start()
    config = DashboardConfig(api_url=api.url, poll_interval_seconds=1)
    counting = Counting(create_dashboard(config))
    dashboard = DashboardServerThread(replace(config, port=0), app=counting)
    dashboard.start()
    yield dashboard.url, counting
    dashboard.stop()
    dashboard.join(10)
    api.stop()


def test_the_page_asks_for_no_websocket_reaches_network_idle_and_updates(
        served: tuple[str, Counting]) -> None:
    url, counting = served
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        sockets: list[str] = []
        errors: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url, wait_until="networkidle", timeout=TIMEOUT_MS)
        sync_api.expect(page.locator("#status")).to_have_text("Connected", timeout=TIMEOUT_MS)
        page.wait_for_function(f"() => ({FILLED_JS})('graph-cpu') > 0", timeout=TIMEOUT_MS)
        points, polls = page.evaluate(FILLED_JS, "graph-cpu"), counting.statuses.total()
        page.wait_for_timeout(WATCH_MS)  # Playwright's events are dispatched while it waits
        later = page.evaluate(FILLED_JS, "graph-cpu")
        browser.close()
    assert sockets == [] and counting.upgrades == 0
    assert counting.statuses.total() - polls >= 5, counting.statuses  # ticks went on (later under load)
    assert set(counting.statuses) <= {200, 204}, counting.statuses
    assert later > points, (points, later)  # 0.2 s samples, 1 s ticks: the chart grew
    assert errors == []
