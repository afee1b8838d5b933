"""Client addresses behind reverse proxies: X-Forwarded-For counts only from --trusted-proxies.

The rule (perfmon.core.proxies) is tested on its own, then through both servers: the API's
failure throttle, and the dashboard's sign-in throttle directly on uvicorn and through a real
nginx (Debian's nginx-light) configured as the README says, with clients connecting from two
different loopback source addresses.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from perfmon.api.app import Monitor
from perfmon.core.proxies import TrustedProxies, parse_address
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import (
    DashboardConfig,
    Security,
    parse_dashboard_config,
    parse_launcher_config,
    parse_server_config,
)
from perfmon.ui.app import create_dashboard
from tests.support.apiserver import ServedApi
from tests.support.processes import free_port

TOKEN = "correct-horse-battery-staple-42"
WRONG = "wrong-token-wrong-token-wrong"
LOCAL = TrustedProxies.parse("127.0.0.1")


# --- the rule ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("192.0.2.1", ["203.0.113.9"], "192.0.2.1"),  # not a proxy of ours: the header is ignored
    ("127.0.0.1", [], "127.0.0.1"),  # a proxy that forwarded nothing: the proxy
    ("127.0.0.1", ["203.0.113.9"], "203.0.113.9"),
    ("127.0.0.1", ["6.6.6.6, 203.0.113.9"], "203.0.113.9"),  # the client wrote 6.6.6.6 itself
    ("127.0.0.1", ["6.6.6.6", "203.0.113.9, 127.0.0.1"], "203.0.113.9"),  # two header lines, two proxies
    ("127.0.0.1", ["127.0.0.1, 127.0.0.1"], "127.0.0.1"),  # every hop ours: from the proxy's host
    ("127.0.0.1", ["6.6.6.6, garbage"], "127.0.0.1"),  # unparsable: nothing to its left is believed
    ("127.0.0.1", ["203.0.113.9:5555"], "203.0.113.9"),
    ("127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
    ("127.0.0.1", ["2001:DB8::1"], "2001:db8::1"),
    ("::ffff:127.0.0.1", ["203.0.113.9"], "203.0.113.9"),  # an IPv4-mapped peer is the IPv4 proxy
    (None, ["203.0.113.9"], "unknown"),
])
def test_the_client_is_the_right_most_untrusted_forwarded_address(
        peer: str | None, forwarded: list[str], client: str) -> None:
    assert LOCAL.client(peer, forwarded) == client


def test_networks_are_trusted_whole_and_nothing_is_trusted_by_default() -> None:
    proxies = TrustedProxies.parse(" 10.0.0.0/8 , ::1,10.0.0.0/8")
    assert str(proxies) == "10.0.0.0/8,::1/128"
    assert proxies.trusts("10.200.3.4") and proxies.trusts("::1") and not proxies.trusts("11.0.0.1")
    assert proxies.client("10.9.9.9", ["198.51.100.2, 10.1.1.1"]) == "198.51.100.2"
    assert not TrustedProxies() and TrustedProxies().client("127.0.0.1", ["6.6.6.6"]) == "127.0.0.1"
    assert parse_address("not-an-address") is None


@pytest.mark.parametrize("text", ["", " , ", "localhost", "10.0.0.0/33", "1.2.3.4.5"])
def test_a_bad_proxy_list_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        TrustedProxies.parse(text)


def securities(argv: list[str], environ: dict[str, str]) -> list[Security]:
    """The Security each entry point builds from ``argv`` and ``environ`` (the launcher's: both)."""
    launcher = parse_launcher_config(argv, environ)
    return [parse_server_config(argv, environ).security, parse_dashboard_config(argv, environ).security,
            launcher.api.security, launcher.dashboard.security]


def test_every_entry_point_takes_the_option_and_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert [str(s.trusted_proxies) for s in securities([], {})] == [""] * 4
    flagged = securities(["--trusted-proxies", "127.0.0.1,10.0.0.0/8"], {"PERFMON_TRUSTED_PROXIES": "::1"})
    assert [str(s.trusted_proxies) for s in flagged] == ["127.0.0.1/32,10.0.0.0/8"] * 4  # the flag wins
    from_env = securities([], {"PERFMON_TRUSTED_PROXIES": "::1"})
    assert [str(s.trusted_proxies) for s in from_env] == ["::1/128"] * 4
    for parse in (parse_server_config, parse_dashboard_config, parse_launcher_config):
        with pytest.raises(SystemExit) as exited:
            parse([], {"PERFMON_TRUSTED_PROXIES": "localhost"})
        assert exited.value.code == 2
        assert "PERFMON_TRUSTED_PROXIES='localhost'" in capsys.readouterr().err


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


# --- through a real nginx, configured as the README says ----------------------------------------

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONFIG = """
{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name monitor.example;
        location / {{
            proxy_pass http://{upstream};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
"""


FORWARDED_FOR = "proxy_set_header X-Forwarded-For $remote_addr;"  # the README's block


@pytest.fixture
def make_nginx(tmp_path: Path) -> Iterator[Callable[[str, str], str]]:
    """Start nginx on a loopback port in front of ``upstream`` (host:port), with ``forwarded_for``
    as its X-Forwarded-For line (or none); returns its URL."""
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is missing: apt-get install nginx-light")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    procs: list[subprocess.Popen[bytes]] = []

    def make(upstream: str, forwarded_for: str) -> str:
        port = free_port()
        config = NGINX_CONFIG.format(user="user root;" if os.geteuid() == 0 else "", tmp=tmp_path,
                                     port=port, upstream=upstream)
        (tmp_path / "nginx.conf").write_text(config.replace(FORWARDED_FOR, forwarded_for))
        procs.append(subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                assert procs[-1].poll() is None, procs[-1].communicate()[1]
                assert time.monotonic() < deadline, "nginx did not listen within 10 s"
                time.sleep(0.05)

    yield make
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def nginx_in_front(make_nginx: Callable[[str, str], str],
                   make_dashboard: Callable[[TrustedProxies], str]) -> str:
    """nginx as the README configures it, in front of a dashboard with --trusted-proxies 127.0.0.1."""
    return make_nginx(make_dashboard(LOCAL).split("://", 1)[1], FORWARDED_FOR)


def test_through_nginx_a_rotating_forged_forwarded_for_is_throttled(nginx_in_front: str) -> None:
    statuses = [sign_in(nginx_in_front, WRONG, f"198.51.100.{i}", host="monitor.example")
                for i in range(6)]
    assert statuses == [401] * 5 + [429]


def test_through_nginx_two_clients_are_throttled_separately(nginx_in_front: str) -> None:
    for _ in range(5):
        assert sign_in(nginx_in_front, WRONG, source="127.0.0.2", host="monitor.example") == 401
    assert sign_in(nginx_in_front, WRONG, source="127.0.0.2", host="monitor.example") == 429
    assert sign_in(nginx_in_front, WRONG, source="127.0.0.3", host="monitor.example") == 401
    assert sign_in(nginx_in_front, TOKEN, source="127.0.0.2", host="monitor.example") == 303


def test_through_a_proxy_that_passes_the_header_on_and_is_not_named_the_header_is_ignored(
        make_nginx: Callable[[str, str], str], make_dashboard: Callable[[TrustedProxies], str]) -> None:
    # The README's former block: no X-Forwarded-For line, so the client's own header reached
    # uvicorn, which believed it from 127.0.0.1 (40 of 40 wrong sign-ins, no 429).
    base = make_nginx(make_dashboard(TrustedProxies()).split("://", 1)[1], "")
    statuses = [sign_in(base, WRONG, f"198.51.100.{i}", host="monitor.example") for i in range(6)]
    assert statuses == [401] * 5 + [429]
