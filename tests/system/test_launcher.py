"""The launcher: the real run_http_polling_system.py on real sockets, and its supervisor in-process."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from perfmon.runtime.launcher import check_api, serve_dashboard, shown_url, wait_until_answering
from perfmon.runtime.servers import ApiServerThread, DashboardServerThread
from perfmon.runtime.signals import StopSignals, run_until_stopped
from perfmon.settings import DashboardConfig, Security, ServerConfig
from tests.support.processes import (
    Running,
    free_port,
    get_json,
    http_get,
    is_listening,
    printed_urls,
    wait_for,
)

SCRIPT = "run_http_polling_system.py"
READY = "Ctrl-C stops both"
TOKEN = "launcher-test-token-0123456789"


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on for the length of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def error_lines(run: Running) -> list[str]:
    """The non-empty lines of what the process wrote to stderr."""
    return [line for line in run.stderr().splitlines() if line.strip()]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_both_and_stops_both_on_signal(signum: int) -> None:
    api_port, dashboard_port = free_port(), free_port()
    with Running(SCRIPT, "--api-port", str(api_port), "--dashboard-port", str(dashboard_port),
                 "--interval", "0.2") as system:
        urls = printed_urls(system.read_stdout_until(READY))
        assert urls == {"API": f"http://127.0.0.1:{api_port}/api/performance",
                        "dashboard": f"http://127.0.0.1:{dashboard_port}/"}
        status, health = get_json(f"http://127.0.0.1:{api_port}/api/health")
        assert status == 200 and health["status"] == "ok"
        status, _, page = http_get(urls["dashboard"])
        assert status == 200 and b"_dash-renderer" in page
        started = time.monotonic()
        system.proc.send_signal(signum)
        assert system.proc.wait(10) == 0
        assert time.monotonic() - started < 5
        assert "Traceback" not in system.stderr()
        assert not is_listening(api_port) and not is_listening(dashboard_port)


def test_port_0_picks_free_ports_and_prints_them() -> None:
    with Running(SCRIPT, "--api-port", "0", "--dashboard-port", "0") as system:
        urls = printed_urls(system.read_stdout_until(READY))
        api_port = int(urls["API"].split(":")[2].split("/")[0])
        dashboard_port = int(urls["dashboard"].split(":")[2].rstrip("/"))
        assert 0 not in (api_port, dashboard_port) and api_port != dashboard_port
        assert http_get(urls["API"])[0] == 200 and http_get(urls["dashboard"])[0] == 200
        assert system.stop() == 0


@pytest.mark.parametrize("taken_flag", ["--api-port", "--dashboard-port"])
def test_a_port_in_use_is_one_line_and_starts_nothing(taken_flag: str, taken_port: int) -> None:
    ports = {"--api-port": free_port(), "--dashboard-port": free_port(), taken_flag: taken_port}
    with Running(SCRIPT, *(str(item) for pair in ports.items() for item in pair)) as system:
        assert system.proc.wait(15) == 1
        assert error_lines(system) == [f"error: port {taken_port} on 127.0.0.1 is already in use: "
                                       f"stop what is using it or pass {taken_flag}"]
        other = next(port for flag, port in ports.items() if flag != taken_flag)
        assert not is_listening(other)


def test_bad_flag_is_usage_error_exit_2() -> None:
    with Running(SCRIPT, "--no-such-flag") as system:
        assert system.proc.wait(15) == 2
        assert error_lines(system) == ["run_http_polling_system.py: error: unrecognized arguments: "
                                       "--no-such-flag (try 'run_http_polling_system.py --help')"]


def start_both() -> tuple[ApiServerThread, DashboardServerThread]:
    """The real API and dashboard, in this process, on free ports."""
    api = ApiServerThread(ServerConfig(port=0, interval_seconds=0.2))
    api.start()
    assert api.wait_listening(10), api.error
    dashboard = DashboardServerThread(DashboardConfig(port=0, api_url=api.url))
    dashboard.start()
    return api, dashboard


def port_of(url: str) -> int:
    return int(url.split(":")[2].strip("/"))


@pytest.mark.parametrize("dies", ["API server", "dashboard"])
def test_a_component_dying_stops_the_other_and_exits_1(dies: str, caplog: pytest.LogCaptureFixture) -> None:
    api, dashboard = start_both()
    dead, survivor = (api, dashboard) if dies == "API server" else (dashboard, api)
    assert http_get(dashboard.url)[0] == 200 and http_get(f"{api.url}/api/health", timeout=5)[0] in (200, 503)
    with StopSignals() as stop:
        dead.stop()  # as if it had crashed: its thread ends while nobody asked the supervisor to stop
        dead.join(5)
        assert not dead.is_alive()
        with caplog.at_level(logging.ERROR, logger="perfmon.runtime.signals"):
            assert run_until_stopped([api, dashboard], stop) == 1
    assert f"the {dies} stopped unexpectedly" in caplog.text
    assert not survivor.is_alive()
    assert not is_listening(port_of(api.url)) and not is_listening(port_of(dashboard.url))


def test_stop_requested_stops_both_and_exits_0() -> None:
    api, dashboard = start_both()
    with StopSignals() as stop:
        stop.event.set()
        assert run_until_stopped([api, dashboard], stop) == 0
    assert not api.is_alive() and not dashboard.is_alive()
    assert not is_listening(port_of(api.url)) and not is_listening(port_of(dashboard.url))


def test_stop_signals_are_recorded_and_the_previous_handlers_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stop:
        assert not stop.requested()
        signal.raise_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not stop.requested() and time.monotonic() < deadline:
            stop.wait(0.01)  # the handler runs on the main thread between bytecodes: at once, or soon
        assert stop.received == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) is before


def test_serve_dashboard_alone_serves_until_a_signal() -> None:
    port = free_port()
    answers: list[int] = []
    returned = threading.Event()

    def signal_once_answering() -> None:
        deadline = time.monotonic() + 20
        while not answers and not returned.is_set() and time.monotonic() < deadline:
            try:
                answers.append(http_get(f"http://127.0.0.1:{port}/", timeout=2)[0])
            except OSError:
                time.sleep(0.05)
        if not returned.is_set():  # serve_dashboard's handler is installed before it binds
            os.kill(os.getpid(), signal.SIGTERM)

    helper = threading.Thread(target=signal_once_answering)
    helper.start()
    try:
        assert serve_dashboard(DashboardConfig(port=port)) == 0
    finally:
        returned.set()
        helper.join(30)
    assert answers == [200]
    assert not is_listening(port)


def test_serve_dashboard_port_in_use_names_port_flag(taken_port: int, capsys: pytest.CaptureFixture) -> None:
    assert serve_dashboard(DashboardConfig(port=taken_port)) == 1
    assert capsys.readouterr().err == (f"error: port {taken_port} on 127.0.0.1 is already in use: "
                                       "stop what is using it or pass --port\n")


def test_open_shows_the_dashboard_in_the_default_browser(tmp_path: Path) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"  # what $BROWSER names is what webbrowser runs, with the URL
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser)}
    with Running(SCRIPT, "--api-port", "0", "--dashboard-port", "0", "--open", env=env) as system:
        urls = printed_urls(system.read_stdout_until(READY))
        wait_for(opened.exists, "file written by the browser")
        assert opened.read_text().strip() == urls["dashboard"]
        assert system.stop() == 0


# --- the health wait, the printed names, and the dashboard's own check ------------------------

def test_the_health_wait_says_a_421_at_once_with_the_flag_that_fixes_it() -> None:
    # Not reachable from the command line any more (the own names stay allowed): a hand-made setting.
    api = ApiServerThread(ServerConfig(port=0, interval_seconds=0.2,
                                       security=Security(allowed_hosts=("monitor.example",))))
    api.start()
    assert api.wait_listening(20), api.error
    try:
        with StopSignals() as stop:
            started = time.monotonic()
            problem = wait_until_answering({f"{api.url}/api/health": None}, [api], stop)
        assert time.monotonic() - started < 10  # not the 30 s startup budget
        assert problem.startswith(f"{api.url}/api/health answered 421 (misdirected request: Host 127.0.0.1:")
        assert problem.endswith(": add 127.0.0.1 to its --allowed-hosts")
    finally:
        api.stop()
        api.join(10)


def test_the_health_wait_gives_up_with_the_cause() -> None:
    url = f"http://127.0.0.1:{free_port()}/api/health"
    with StopSignals() as stop:
        problem = wait_until_answering({url: None}, [], stop, timeout=0.5)
    assert problem == (f"{url} did not come up within 0.5 s: connection refused by "
                       f"{url.split('/')[2]}: is the server running there?")


@pytest.mark.parametrize(("url", "names", "allowed", "shown"), [
    ("https://127.0.0.1:8000", ["monitor.example", "127.0.0.1"], ("*",), "https://127.0.0.1:8000"),
    ("https://127.0.0.1:8000", ["monitor.example", "192.0.2.10"], ("*",), "https://monitor.example:8000"),
    ("https://127.0.0.1:8050/", ["a.example", "b.example"], ("b.example",), "https://b.example:8050/"),
    ("https://127.0.0.1:8050/", ["2001:db8::1"], ("*",), "https://[2001:db8::1]:8050/"),
    ("https://127.0.0.1:8050/", [], ("*",), "https://127.0.0.1:8050/"),
])
def test_a_shown_url_carries_a_name_of_the_certificate(url: str, names: list[str], allowed: tuple[str, ...],
                                                       shown: str) -> None:
    assert shown_url(url, names, Security(allowed_hosts=allowed)) == shown


def get_by_name(name: str, port: int, path: str, ca_file: Path) -> bytes:
    """GET over TLS from 127.0.0.1:port as a browser that resolved ``name`` would: SNI, checks and Host."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=name) as tls:
        tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n".encode())
        return b"".join(iter(lambda: tls.recv(65536), b""))


def monitor_example_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A certificate for monitor.example only (not 127.0.0.1, where the servers listen), its key, its CA."""
    ca = trustme.CA()
    server = ca.issue_cert("monitor.example")
    cert, key, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return cert, key, ca_file


def test_over_tls_the_printed_urls_carry_a_name_of_the_certificate(tmp_path: Path) -> None:
    cert, key, ca_file = monitor_example_certificate(tmp_path)
    tls = ("--tls-cert", str(cert), "--tls-key", str(key), "--allowed-hosts", "monitor.example")
    with Running(SCRIPT, "--api-port", "0", "--dashboard-port", "0", "--interval", "0.5", *tls) as system:
        urls = printed_urls(system.read_stdout_until(READY))
        assert re.fullmatch(r"https://monitor\.example:\d+/api/performance", urls["API"]), urls
        assert re.fullmatch(r"https://monitor\.example:\d+/", urls["dashboard"]), urls
        api_port = port_of(urls["API"].removesuffix("/api/performance"))
        assert get_by_name("monitor.example", api_port, "/api/health", ca_file).startswith(b"HTTP/1.1 200")
        page = get_by_name("monitor.example", port_of(urls["dashboard"]), "/", ca_file)
        assert page.startswith(b"HTTP/1.1 200")
        assert system.stop() == 0


def test_the_dashboard_alone_over_tls_prints_a_name_of_the_certificate(tmp_path: Path) -> None:
    cert, key, ca_file = monitor_example_certificate(tmp_path)
    api_url = f"http://127.0.0.1:{free_port()}"
    with Running("performance_dashboard_http_polling.py", "--port", "0", "--api-url", api_url, "--tls-cert",
                 str(cert), "--tls-key", str(key), "--allowed-hosts", "monitor.example") as dashboard:
        out = dashboard.read_stdout_until("Ctrl-C stops it")
        shown = rf"^perfmon dashboard: https://monitor\.example:(\d+)/ \(API: {api_url}\)$"
        match = re.search(shown, out, re.MULTILINE)
        assert match, out
        assert get_by_name("monitor.example", int(match[1]), "/", ca_file).startswith(b"HTTP/1.1 200")
        assert dashboard.stop() == 0


def test_perfmon_dashboard_warns_at_start_when_its_api_does_not_answer() -> None:
    api_url = f"http://127.0.0.1:{free_port()}"
    with Running("performance_dashboard_http_polling.py", "--port", "0", "--api-url", api_url) as dashboard:
        dashboard.read_stdout_until("Ctrl-C stops it")
        wait_for(lambda: "cannot use the API" in dashboard.stderr(), "warning about the API")
        [warning] = [line for line in dashboard.stderr().splitlines() if "cannot use the API" in line]
        assert warning.endswith(f" WARNING perfmon.runtime.launcher: cannot use the API at {api_url}: "
                                f"connection refused by {api_url[7:]}: is the server running there? "
                                "(the dashboard serves anyway and keeps asking)")
        assert dashboard.proc.poll() is None  # it serves on
        assert dashboard.stop() == 0


@pytest.mark.parametrize(("token", "warned"), [
    (None, "it wants a token"), ("a-wrong-token-0123456789", "the token is not the server's"), (TOKEN, ""),
])
def test_the_dashboards_check_of_its_api_says_what_is_wrong(token: str | None, warned: str,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    api = ApiServerThread(ServerConfig(port=0, interval_seconds=0.2, security=Security(token=TOKEN)))
    api.start()
    assert api.wait_listening(20), api.error
    try:
        with caplog.at_level(logging.WARNING, logger="perfmon.runtime.launcher"):
            check_api(DashboardConfig(api_url=api.url, security=Security(token=token))).join(10)
        messages = [r.getMessage() for r in caplog.records if r.name == "perfmon.runtime.launcher"]
        if warned:
            [message] = messages
            assert message.startswith(f"cannot use the API at {api.url}: answered 401 (")
            assert warned in message
        else:
            assert messages == []
    finally:
        api.stop()
        api.join(10)


def test_a_stop_requested_from_another_thread_wakes_the_wait_at_once() -> None:
    with StopSignals() as stop:
        threading.Timer(0.2, stop.request).start()
        began = time.monotonic()
        assert stop.wait(60) is True
        assert time.monotonic() - began < 30  # woken by the request, not by the end of the wait


def test_the_dashboards_server_stops_at_once_when_asked() -> None:
    dashboard = DashboardServerThread(DashboardConfig(port=0, api_url="http://127.0.0.1:9"))
    dashboard.start()
    assert http_get(dashboard.url)[0] == 200
    dashboard.stop()
    dashboard.join(30)
    assert not dashboard.is_alive() and not is_listening(port_of(dashboard.url))
