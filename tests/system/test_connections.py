"""Idle and slow connections on both servers' real sockets: closed in time, and shed near the limit.

Each server runs with a 1 s --header-timeout and a short --keepalive-timeout so the tests stay
short (the defaults are 10 s and 20 s). A connection that sends nothing, or a request head a byte
at a time, is closed within the header timeout; a kept-alive connection after the keep-alive
timeout; a long-poll or a slow answer is never cut off. Near the open-files limit (a server in a
process started with ``ulimit -n 256``), a new request is still answered while hundreds of idle
connections are held open.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.core.connections import Connections, OpenConnections, high_water_mark
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig
from tests.support.apiserver import ServedApi
from tests.support.processes import Running, free_port, http_get, wait_until_healthy

HEADER_TIMEOUT, KEEPALIVE_TIMEOUT = 1.0, 3.0  # apart by more than the slack: each close tells which
SLACK = 1.5  # seconds a close may come after its deadline on a loaded machine (2 cores, 8 users)
HOST = b"Host: 127.0.0.1\r\n"
LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="uses sh's ulimit")


# --- the table: which connections are shed ---------------------------------------------------

@dataclass(eq=False)
class FakeConnection:
    name: str
    busy: bool = False
    shed_calls: list[str] = field(default_factory=list)

    def is_idle(self) -> bool:
        return not self.busy

    def shed(self) -> None:
        self.shed_calls.append(self.name)


def test_over_the_mark_the_longest_idle_connections_go_first_and_busy_ones_never() -> None:
    shed: list[tuple[int, int]] = []
    table = Connections(OpenConnections(high_water=16),
                        on_shed=lambda closed, left: shed.append((closed, left)))
    conns = [FakeConnection(f"c{i}") for i in range(16)]
    for conn in conns:
        table.opened(conn)
    assert len(table) == 16 and not shed  # at the mark: nothing happens
    conns[0].busy = True  # a long-poll in progress
    table.active(conns[1])  # just sent a request: the most recent now
    newcomer = FakeConnection("new")
    table.opened(newcomer)  # 17 > 16: down to the low mark, 15
    assert shed == [(2, 15)]
    assert [c.name for c in [*conns, newcomer] if c.shed_calls] == ["c2", "c3"]
    table.closed(conns[2])  # its connection_lost, later: already forgotten
    table.closed(conns[4])
    assert table.total.count == len(table) == 14


def test_the_connection_just_accepted_is_never_the_one_shed() -> None:
    table = Connections(OpenConnections(high_water=2))
    first, second, third = (FakeConnection(name, busy=True) for name in ("1", "2", "3"))
    for conn in (first, second, third):  # the third is over the mark, and the only idle one
        third.busy = False
        table.opened(conn)
    assert not any(c.shed_calls for c in (first, second, third)) and table.total.count == 3


async def test_a_server_that_cannot_shed_enough_asks_the_other_through_its_loop() -> None:
    total = OpenConnections(high_water=8)
    dashboard, api = Connections(total), Connections(total)
    idle = [FakeConnection(f"idle{i}") for i in range(8)]
    ready = threading.Event()

    def other_loop() -> None:  # the dashboard's server, on its own loop in its own thread
        async def hold() -> None:
            for conn in idle:
                dashboard.opened(conn)
            ready.set()
            while not any(c.shed_calls for c in idle):
                await asyncio.sleep(0.01)
        asyncio.run(asyncio.wait_for(hold(), 10))

    thread = threading.Thread(target=other_loop)
    thread.start()
    assert ready.wait(10)
    api.opened(FakeConnection("real client"))  # 9 > 8: the API has nothing idle to shed but it
    thread.join(10)
    assert [c.name for c in idle if c.shed_calls] == ["idle0", "idle1"]  # down to the low mark, 7
    assert total.count == 7


def test_when_every_connection_is_busy_nothing_is_shed_and_the_work_is_bounded() -> None:
    table = Connections(OpenConnections(high_water=4))
    busy = [FakeConnection(str(i), busy=True) for i in range(2000)]
    started = time.perf_counter()
    for conn in busy:
        table.opened(conn)
    assert table.total.count == 2000 and not any(c.shed_calls for c in busy)
    assert time.perf_counter() - started < 1.0  # at most 64 looked at per accept, not all of them


def test_the_mark_leaves_room_for_the_processes_other_descriptors() -> None:
    assert high_water_mark(1024) == 896
    assert high_water_mark(20_000) == 17_500
    assert high_water_mark(64) == 1
    assert high_water_mark(-1) > 10**8  # unknown or unlimited: no shedding


def test_two_servers_share_the_process_count_from_their_threads() -> None:
    total = OpenConnections(high_water=1 << 30)

    def churn() -> None:
        table = Connections(total)
        conns = [FakeConnection(str(i)) for i in range(5000)]
        for conn in conns:
            table.opened(conn)
        for conn in conns:
            table.closed(conn)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert total.count == 0


# --- both servers on real sockets ------------------------------------------------------------

@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[int]:
    served = ServedApi(make_monitor(header_timeout_seconds=HEADER_TIMEOUT,
                                    keepalive_timeout_seconds=KEEPALIVE_TIMEOUT)).start()
    served.sample()
    yield served.port
    served.close()


async def slow_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A tiny ASGI app: /slow answers after 4 s (longer than every timeout here), the rest at once."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["path"] == "/slow":
        await asyncio.sleep(4)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def dashboard() -> Iterator[int]:
    config = DashboardConfig(port=0, header_timeout_seconds=HEADER_TIMEOUT,
                             keepalive_timeout_seconds=KEEPALIVE_TIMEOUT)
    thread = DashboardServerThread(config, app=slow_app)
    thread.start()
    yield int(thread.url.rstrip("/").rsplit(":", 1)[1])
    thread.stop()
    thread.join(10)


@pytest.fixture(params=["api", "dashboard"])
def port(request: pytest.FixtureRequest) -> int:
    """The port of either server, each with a 1 s header timeout."""
    return int(request.getfixturevalue(request.param))


def closed_after(sock: socket.socket, started: float) -> float:
    """Read until the server closes ``sock``; seconds since ``started``."""
    sock.settimeout(HEADER_TIMEOUT + KEEPALIVE_TIMEOUT + 10)
    with contextlib.suppress(ConnectionResetError):
        while sock.recv(65536):
            pass
    return time.monotonic() - started


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from ``sock``."""
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    found = re.search(rb"(?i)content-length: *(\d+)", head)
    length = int(found.group(1)) if found else 0  # a 304 has no body
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_connection_that_sends_nothing_is_closed_within_the_header_timeout(port: int) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        assert HEADER_TIMEOUT - 0.1 <= closed_after(sock, started) <= HEADER_TIMEOUT + SLACK


def test_a_slowloris_head_is_closed_within_the_header_timeout(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        head = b"GET / HTTP/1.1\r\n" + HOST + b"X-Slow: " + b"a" * 40
        closed = None
        for byte in head:  # a byte every 0.2 s: the head would take 12 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = time.monotonic() - started
                break
            time.sleep(0.2)
        assert closed is not None or closed_after(sock, started) <= HEADER_TIMEOUT + SLACK
        assert closed is None or closed <= HEADER_TIMEOUT + SLACK


def test_a_kept_alive_connection_is_closed_after_the_keepalive_timeout_and_not_before(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n")
        assert read_answer(sock).startswith(b"HTTP/1.1 ")
        answered = time.monotonic()
        time.sleep(HEADER_TIMEOUT + 0.2)  # idle longer than a head may take: still open
        sock.sendall(b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n")
        assert read_answer(sock).startswith(b"HTTP/1.1 ")
        answered = time.monotonic()
        assert KEEPALIVE_TIMEOUT - 0.1 <= closed_after(sock, answered) <= KEEPALIVE_TIMEOUT + SLACK


def test_a_slowloris_head_on_a_kept_alive_connection_is_closed_too(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\n" + HOST + b"\r\n")
        read_answer(sock)
        sock.sendall(b"GET / HTTP/1.1\r\n")  # the next head begins, and never ends
        started = time.monotonic()
        for _ in range(3):  # a byte every 0.3 s: uvicorn's keep-alive timer alone is reset by each
            time.sleep(0.3)
            with contextlib.suppress(OSError):
                sock.sendall(b"a")
        assert closed_after(sock, started) <= HEADER_TIMEOUT + SLACK


def test_a_long_poll_outlasts_every_timeout(api: int) -> None:
    _, headers, _ = http_get(f"http://127.0.0.1:{api}/api/performance")
    etag = headers["ETag"]
    with socket.create_connection(("127.0.0.1", api)) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /api/performance?wait=4 HTTP/1.1\r\n" + HOST
                     + f"If-None-Match: {etag}\r\n\r\n".encode())
        head = read_answer(sock)
        assert head.startswith(b"HTTP/1.1 304") and time.monotonic() - started >= 3.9


def test_a_slow_dashboard_answer_outlasts_every_timeout(dashboard: int) -> None:
    with socket.create_connection(("127.0.0.1", dashboard)) as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\n" + HOST + b"\r\n")
        assert read_answer(sock).startswith(b"HTTP/1.1 200")


# --- near the open-files limit ---------------------------------------------------------------

HELD = 400  # idle connections: beyond a limit of 256 descriptors
LIMITED = "ulimit -n 256 && exec {python} {script} {args}"
NO_TIMEOUTS = "--header-timeout 300 --keepalive-timeout 3600"  # only shedding can free descriptors


@contextlib.contextmanager
def held(port: int, count: int = HELD) -> Iterator[list[socket.socket]]:
    """``count`` idle connections to ``port``, open for the block."""
    sockets = []
    try:
        for _ in range(count):
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def shed_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "idle connections:" in line]


@LINUX_ONLY
def test_near_the_limit_the_api_sheds_idle_connections_and_answers() -> None:
    port = free_port()
    command = LIMITED.format(python=sys.executable, script="performance_api_server.py",
                             args=f"--port {port} {NO_TIMEOUTS}")
    with Running("sh", "-c", command) as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)
        with held(port):
            for _ in range(3):
                assert http_get(f"http://127.0.0.1:{port}/api/health", timeout=5)[0] == 200
        assert server.stop() == 0
        log = server.stderr()
    assert "Traceback" not in log
    [line] = shed_lines(log)  # one line a minute, however many were shed
    assert "WARNING" in line and "the API closed" in line and "ulimit -n" in line


@LINUX_ONLY
def test_near_the_limit_the_launcher_sheds_idle_connections_on_either_port_and_answers() -> None:
    api, dashboard = free_port(), free_port()
    command = LIMITED.format(python=sys.executable, script="run_http_polling_system.py",
                             args=f"--api-port {api} --dashboard-port {dashboard} {NO_TIMEOUTS}")
    with Running("sh", "-c", command) as launcher:
        launcher.read_stdout_until("Ctrl-C stops both")
        with held(dashboard), held(api):
            assert http_get(f"http://127.0.0.1:{api}/api/health", timeout=5)[0] == 200
            status, _, body = http_get(f"http://127.0.0.1:{dashboard}/", timeout=5)
            assert status == 200 and b"<title>perfmon</title>" in body
        assert launcher.stop() == 0
        log = launcher.stderr()
    assert "Traceback" not in log
    said = " ".join(shed_lines(log))
    assert "the dashboard closed" in said and "the API closed" in said
