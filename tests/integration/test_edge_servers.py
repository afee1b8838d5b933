"""The edge toolkit in both servers, on real sockets: wrong tokens from 127.0.0.1 never lock out the right
one (the API's Bearer, the dashboard's own API client, its ticks), and both refuse gzip the same way.

Before: five wrong tokens from any local process put 127.0.0.1 in the API's penalty, 429 for every
request including the dashboard's, so its tabs showed Disconnected within 4.5 s; and the dashboard
sent gzip to ``*;q=1, gzip;q=0``. The pure module is tested in test_edge.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import requests

from perfmon.api.app import ROUTES, Monitor
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig, Security
from perfmon.ui.app import create_dashboard
from perfmon.ui.edge.sessions import COOKIE_NAME
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick import signature
from tests.support.apiserver import ServedApi
from tests.support.processes import wait_for

TOKEN = "edge-" + "0123456789abcdef" * 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": "Bearer " + "guess-0123456789abcdef" * 2}
REFUSES_GZIP = "*;q=1, gzip;q=0"


class Hammer(threading.Thread):
    """A local process sending wrong tokens to ``url`` as fast as it can, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(name="hammer", daemon=True)
        self.url = url
        self.statuses: Counter[int] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stopping.is_set():
                self.statuses[session.get(self.url, headers=WRONG, timeout=5).status_code] += 1

    def __enter__(self) -> Hammer:
        self.start()
        wait_for(lambda: self.statuses[429] > 0, "penalty for the wrong tokens")
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.join(10)


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    """A real API with a token, on 127.0.0.1, its guard on the real clock."""
    served = ServedApi(make_monitor(process_interval_seconds=1.0, security=Security(token=TOKEN))).start()
    served.sample(2)
    yield served
    served.close()


def serve_dashboard(config: DashboardConfig,
                    client: PerformanceClient | None = None) -> DashboardServerThread:
    thread = DashboardServerThread(replace(config, port=0), app=create_dashboard(config, client))
    thread.start()
    return thread


# --- the right token is always served ---------------------------------------------------------------

def test_after_many_wrong_tokens_from_127_0_0_1_the_right_token_gets_200_at_once(api: ServedApi) -> None:
    url = f"{api.url}/api/performance"
    with requests.Session() as attacker:
        statuses = [attacker.get(url, headers=WRONG, timeout=5).status_code for _ in range(50)]
    assert statuses == [401] * 5 + [429] * 45  # the address is in its penalty ...
    with requests.Session() as owner:
        for path, _ in ROUTES:  # ... and the right token is answered on every endpoint
            response = owner.get(f"{api.url}{path}", headers=AUTH, timeout=5)
            if path == "/api/health":  # 503 "stale" on the fixture's fake clock, but the full answer
                assert "version" in response.json(), response.text
            else:
                assert response.status_code == 200, (path, response.text)
    assert requests.get(url, headers=WRONG, timeout=5).status_code == 429  # still slowed down


async def test_the_dashboards_client_keeps_reading_while_a_local_process_hammers_wrong_tokens(
        api: ServedApi) -> None:
    client = PerformanceClient(api.url, 1.0, token=TOKEN)
    try:
        with Hammer(f"{api.url}/api/processes") as hammer:
            refused = hammer.statuses[429]
            started = time.monotonic()
            for limit in range(1, 31):  # a new limit each time: never an answer shared from before
                scan = await client.processes("cpu", limit, timeout=3.0)
                assert len(scan["processes"]) <= limit
            sample = await client.performance(timeout=3.0)
            assert sample["seq"] == 2
            elapsed = time.monotonic() - started
            assert hammer.statuses[429] > refused  # the attacker was slowed down meanwhile
        assert set(hammer.statuses) <= {401, 429}, hammer.statuses
        assert client.requests >= 31 and elapsed < 10  # every read answered, none waited out a penalty
    finally:
        await client.close()


def test_the_dashboard_stays_connected_while_a_local_process_hammers_wrong_tokens(api: ServedApi) -> None:
    config = DashboardConfig(api_url=api.url, poll_interval_seconds=0.25, security=Security(token=TOKEN))
    client = PerformanceClient(api.url, config.poll_interval_seconds, token=TOKEN)
    dashboard = serve_dashboard(config, client)
    base = dashboard.url.rstrip("/")
    try:
        with requests.Session() as tab:
            signed_in = tab.post(f"{base}/login", data={"token": TOKEN, "next": "/"}, allow_redirects=False)
            assert signed_in.status_code == 303 and COOKIE_NAME in tab.cookies
            with Hammer(f"{api.url}/api/performance"):
                asked = client.requests
                ticks = 0
                while client.requests < asked + 3:  # ticks until three of them asked the API itself
                    body = signature.request_body(ticks)
                    tick = tab.post(f"{base}{signature.URL_PATH}", json=body, timeout=10)
                    updates, _, _ = signature.read_response(tick.content)
                    assert updates.get("status.children", "Connected") == "Connected", updates
                    ticks += 1
                    assert ticks < 500, "the dashboard stopped asking the API"
    finally:
        dashboard.stop()
        dashboard.join(10)


# --- gzip, refused the same way by both servers -------------------------------------------------------

def test_both_servers_send_no_gzip_to_a_client_that_refuses_it(api: ServedApi) -> None:
    dashboard = serve_dashboard(DashboardConfig(api_url=api.url))  # no token: its pages are open
    base = dashboard.url.rstrip("/")
    try:
        answers = {
            "API sample": (f"{api.url}/api/performance", AUTH),
            "API document": (f"{api.url}/api/openapi.json", AUTH),
            "dashboard page": (f"{base}/", {}),
            "dashboard layout": (f"{base}/_dash-layout", {}),
            "dashboard asset": (f"{base}/assets/perfmon.js", {}),
        }
        for name, (url, headers) in answers.items():
            for accept_encoding, expected in ((REFUSES_GZIP, None), ("gzip;q=0, *", None),
                                              ("identity", None), ("*", "gzip"), ("gzip;q=0.5", "gzip")):
                sent = {**headers, "Accept-Encoding": accept_encoding}
                response = requests.get(url, headers=sent, timeout=10)
                assert response.status_code == 200, (name, response.status_code)
                assert response.headers.get("Content-Encoding") == expected, (name, accept_encoding)
                assert "Accept-Encoding" in response.headers.get("Vary", ""), (name, accept_encoding)
    finally:
        dashboard.stop()
        dashboard.join(10)
