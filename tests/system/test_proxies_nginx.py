"""The dashboard's sign-in throttle through a real nginx (Debian's nginx-light) configured as the README says.

Clients connect from two different loopback source addresses; the dashboard and its API run in this
process (tests/integration/test_proxies.py has them), nginx as a real process in front of them.
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

from perfmon.core.proxies import TrustedProxies
from tests.integration import test_proxies as served
from tests.integration.test_proxies import LOCAL, TOKEN, WRONG, sign_in
from tests.support.processes import free_port

make_dashboard = served.make_dashboard  # the fixture: a signed-in dashboard on uvicorn, its API behind it
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
