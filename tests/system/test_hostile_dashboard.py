"""Hostile and heavy use of the launcher's two ports: idle and slow connections, malformed HTTP, a stop.

The launcher runs as users run it, in a process whose soft open-files limit is 256 (the
launcher raises it to the hard limit at start); each test holds a few hundred idle or
slowloris connections (headers sent a byte at a time and never finished) to one port and
checks that both servers still answer a normal request. waitress, the dashboard's former
server, was locked out by 98 idle connections; the counts here are above that.
"""

from __future__ import annotations

import contextlib
import re
import resource
import socket
import sys
from collections.abc import Iterator

import pytest

from tests.integration.test_hostile_http import MALFORMED
from tests.support.processes import Running, free_port, http_get

LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and uses sh's ulimit")
HOLD = 300  # connections held to one port: past waitress's 100, past a 256 descriptor limit with both
SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
EXPECTED_SOFT = min(HARD, 1_048_576) if HARD != resource.RLIM_INFINITY else 1_048_576
needs_headroom = pytest.mark.skipif(HARD < 4 * HOLD, reason=f"hard open-files limit {HARD} is too low")


class Launcher:
    """``run_http_polling_system.py`` started with a soft limit of 256 open files."""

    def __init__(self) -> None:
        self.api, self.dashboard = free_port(), free_port()
        command = (f"ulimit -Sn 256 && exec {sys.executable} run_http_polling_system.py "
                   f"--api-port {self.api} --dashboard-port {self.dashboard}")
        self.running = Running("sh", "-c", command)
        self.running.read_stdout_until("Ctrl-C stops both")

    def answers(self) -> None:
        """Both servers answer a normal request on a new connection."""
        assert http_get(f"http://127.0.0.1:{self.api}/api/health", timeout=5)[0] == 200
        status, _, body = http_get(f"http://127.0.0.1:{self.dashboard}/", timeout=5)
        assert status == 200 and b"<title>perfmon</title>" in body
        assert http_get(f"http://127.0.0.1:{self.dashboard}/_dash-layout", timeout=5)[0] == 200


@pytest.fixture(scope="module")
def launcher() -> Iterator[Launcher]:
    started = Launcher()
    with started.running:
        yield started
        assert started.running.stop() == 0


@contextlib.contextmanager
def held(port: int, count: int, first_bytes: bytes = b"") -> Iterator[list[socket.socket]]:
    """``count`` connections to ``port``, each having sent ``first_bytes``, held open for the block."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sockets.append(sock)
            if first_bytes:
                sock.sendall(first_bytes)
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


SLOWLORIS = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-a: b"  # a request's head, never finished


@LINUX_ONLY
@needs_headroom
def test_the_launcher_raises_its_open_files_limit(launcher: Launcher) -> None:
    with open(f"/proc/{launcher.running.proc.pid}/limits") as limits:
        [line] = [line for line in limits if line.startswith("Max open files")]
    assert line.split()[3] == str(EXPECTED_SOFT)


@LINUX_ONLY
@needs_headroom
@pytest.mark.parametrize("target", ["api", "dashboard"])
def test_idle_connections_to_either_port_lock_nobody_out(launcher: Launcher, target: str) -> None:
    with held(getattr(launcher, target), HOLD) as idle:
        launcher.answers()
        idle[0].sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # a held connection is served too
        assert idle[0].recv(12).startswith(b"HTTP/1.1 200")
    assert launcher.running.proc.poll() is None


@LINUX_ONLY
@needs_headroom
@pytest.mark.parametrize("target", ["api", "dashboard"])
def test_slowloris_connections_to_either_port_lock_nobody_out(launcher: Launcher, target: str) -> None:
    with held(getattr(launcher, target), HOLD, SLOWLORIS) as slow:
        for sock in slow[:50]:
            sock.sendall(b"c")  # a byte more, as slowloris sends them
        launcher.answers()
    assert launcher.running.proc.poll() is None


def status_of(port: int, raw: bytes) -> int:
    """Send ``raw`` on a new connection; the answer's status (the connection may stay open)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with contextlib.suppress(ConnectionError):  # it may answer and close before reading it all
            sock.sendall(raw)
        head = b""
        while b"\r\n" not in head and (chunk := sock.recv(4096)):
            head += chunk
    return int(head.split(b" ", 2)[1])


@LINUX_ONLY
def test_malformed_requests_to_the_dashboard_get_a_4xx_and_one_warning_line(launcher: Launcher) -> None:
    statuses = {}
    for _ in range(3):
        for name, (raw, _, _) in MALFORMED.items():  # what uvicorn can parse is a 404 or 405 of the app
            statuses[name] = status_of(launcher.dashboard, raw)
    assert all(400 <= status < 500 for status in statuses.values()), statuses
    assert statuses["TLS ClientHello"] == statuses["HTTP/1.1 without Host"] == 400, statuses
    launcher.answers()
    log = launcher.running.stderr()
    assert "Traceback" not in log
    assert not re.search(r"^\S+ \S+ (ERROR|CRITICAL)", log, re.MULTILINE), log
    warnings = [line for line in log.splitlines() if "WARNING" in line and "collector" not in line]
    assert len(warnings) == 1, log
    assert "the dashboard rejected a malformed HTTP request with a 400" in warnings[0]
    assert "further ones for 60 s are counted, not logged" in warnings[0]


@LINUX_ONLY
@needs_headroom
def test_the_launcher_stops_cleanly_while_connections_are_held() -> None:
    started = Launcher()
    with started.running, held(started.dashboard, 100, SLOWLORIS), held(started.dashboard, 100), \
            held(started.api, 100, SLOWLORIS):
        started.running.proc.terminate()
        assert started.running.proc.wait(timeout=8) == 0  # the launcher's budget is 5 s
    for port in (started.api, started.dashboard):
        with socket.socket() as probe:  # both ports can be listened on again, as a new launcher would
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
            probe.listen()
