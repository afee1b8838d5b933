"""Client addresses behind reverse proxies: X-Forwarded-For counts only from --trusted-proxies.

The API's failure throttle and the dashboard's sign-in throttle directly on uvicorn, in this process.
The rule itself is in tests/unit/core/test_proxies.py; a real nginx in front, in
tests/system/test_proxies_nginx.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from perfmon.api.app import Monitor
from perfmon.core.proxies import TrustedProxies
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import (
    DashboardConfig,
    Security,
)
from perfmon.ui.app import create_dashboard
from tests.support.apiserver import ServedApi
from tests.support.processes import free_port

TOKEN = "correct-horse-battery-staple-42"
WRONG = "wrong-token-wrong-token-wrong"
LOCAL = TrustedProxies.parse("127.0.0.1")


# --- the API's failure throttle ------------------------------------------------------------------

@pytest.fixture
def make_api(make_monitor: Callable[..., Monitor]) -> Iterator[Callable[[TrustedProxies], ServedApi]]:
    served: list[ServedApi] = []

    def make(proxies: TrustedProxies) -> ServedApi:
        security = Security(token=TOKEN, trusted_proxies=proxies)
        served.append(ServedApi(make_monitor(security=security)).start())
        served[-1].sample()
        return served[-1]

    yield make
    for api in served:
        api.close()


def api_get(api: ServedApi, token: str, forwarded_for: str) -> int:
    return requests.get(f"{api.url}/api/performance", timeout=5, headers={
        "Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for}).status_code


def test_without_a_named_proxy_the_api_throttles_the_peer_whatever_it_forwards(
        make_api: Callable[[TrustedProxies], ServedApi]) -> None:
    api = make_api(TrustedProxies())
    assert [api_get(api, WRONG, f"198.51.100.{i}") for i in range(6)] == [401] * 5 + [429]


def test_behind_a_named_proxy_the_api_throttles_each_forwarded_client(
        make_api: Callable[[TrustedProxies], ServedApi], caplog: pytest.LogCaptureFixture) -> None:
    api = make_api(LOCAL)
    assert [api_get(api, WRONG, "6.6.6.6, 198.51.100.1") for _ in range(6)] == [401] * 5 + [429]
    assert api_get(api, WRONG, "198.51.100.1") == 429  # the guesser is in its penalty
    assert api_get(api, WRONG, "198.51.100.2") == 401  # another client of the same proxy is not
    assert api_get(api, TOKEN, "198.51.100.1") == 200  # and the right token is never refused
    failures = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert failures and all("from 198.51.100.1:" in line or "from 198.51.100.2:" in line
                            for line in failures), failures  # the forwarded client, never the proxy
    assert any("from 198.51.100.2:" in line for line in failures), failures


# --- the dashboard's sign-in throttle ------------------------------------------------------------

@pytest.fixture
def make_dashboard() -> Iterator[Callable[[TrustedProxies], str]]:
    threads: list[DashboardServerThread] = []

    def make(proxies: TrustedProxies) -> str:
        security = Security(token=TOKEN, trusted_proxies=proxies,
                            allowed_hosts=("127.0.0.1", "monitor.example"))
        config = DashboardConfig(port=0, api_url=f"http://127.0.0.1:{free_port()}", security=security)
        threads.append(DashboardServerThread(config, app=create_dashboard(config)))
        threads[-1].start()
        return threads[-1].url.rstrip("/")

    yield make
    for thread in threads:
        thread.stop()
        thread.join(10)


def sign_in(base: str, token: str, forwarded_for: str | None = None, source: str | None = None,
            host: str | None = None) -> int:
    """POST /login from ``source`` (a loopback address to connect from); the status."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    if host:
        headers["Host"] = host
    with requests.Session() as session:
        if source:
            adapter = SourceAdapter(source)
            session.mount("http://", adapter)
        return session.post(f"{base}/login", data={"token": token, "next": "/"}, headers=headers,
                            allow_redirects=False, timeout=10).status_code


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from a given local address (127.0.0.2 is another client on loopback)."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call]


def test_without_a_named_proxy_a_forged_forwarded_for_is_ignored(
        make_dashboard: Callable[[TrustedProxies], str]) -> None:
    base = make_dashboard(TrustedProxies())
    assert [sign_in(base, WRONG, f"198.51.100.{i}") for i in range(6)] == [401] * 5 + [429]
