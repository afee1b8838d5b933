"""Hostile and heavy use of the API on real sockets: malformed HTTP, and running out of descriptors.

Every malformed request below is written raw to a socket, as a scanner, a confused client or an
attacker would send it; the answer must be our JSON 4xx and the log must stay quiet: no
traceback, one WARNING line for a whole burst. Running out of file descriptors is made real too,
in a server process started with a limit of 64.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import resource
import socket
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from aiohttp import web

from perfmon.api.app import Monitor
from perfmon.api.edge.limits import (
    ACCEPT_ERROR_MESSAGE,
    MAX_OPEN_FILES,
    AcceptErrorLimiter,
    install_accept_error_limiter,
    raise_open_files_limit,
)
from perfmon.api.server import start
from perfmon.settings import ServerConfig
from tests.support.apiserver import ServedApi
from tests.support.fakes import FakeClock
from tests.support.processes import wait_for

SCRIPT = "performance_api_server.py"
LINUX_ONLY = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and uses sh's ulimit")


def client_hello() -> bytes:
    """The first bytes a real TLS client sends: what an https:// URL sends to the plain port."""
    outgoing = ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="127.0.0.1")
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


GET = b"GET /api/health"
HOST = b"Host: 127.0.0.1\r\n"
MALFORMED = {  # name: (raw request, status, a piece of the JSON error's message, lower case)
    "100 KB query": (GET + b"?q=" + b"a" * 100_000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 400,
                     "longer than 8190 bytes"),
    "64 KB header": (GET + b" HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 65_536 + b"\r\n\r\n", 400,
                     "longer than 8190 bytes"),
    "1,000 headers": (GET + b" HTTP/1.1\r\n" + HOST + b"".join(b"X-%d: v\r\n" % i for i in range(1000))
                      + b"\r\n", 400, "too many headers"),
    "raw 0xff in the path": (b"GET /\xff\xfe HTTP/1.1\r\n" + HOST + b"\r\n", 400, "url"),
    "method BREW": (b"BREW /api/health HTTP/1.1\r\n" + HOST + b"\r\n", 400, "method"),
    "HTTP/1.1 without Host": (GET + b" HTTP/1.1\r\n\r\n", 400, "host"),
    "TLS ClientHello": (client_hello(), 400, "https"),
    "bad chunked body": (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
                         b"zz\r\nhello\r\n0\r\n\r\n", 400, "chunk"),
    "OPTIONS *": (b"OPTIONS * HTTP/1.1\r\n" + HOST + b"\r\n", 405, "not allowed on *"),
    "CONNECT host:443": (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405,
                         "not a proxy"),
}


class Answer(NamedTuple):
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def error(self) -> dict[str, Any]:
        """The JSON error body's ``error`` object."""
        assert self.headers.get("content-type") == "application/json", self
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


def exchange(port: int, raw: bytes, timeout: float = 5) -> Answer:
    """Send ``raw`` on a new connection and read the answer until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(ConnectionError):  # it may answer and close before reading it all
            sock.sendall(raw)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65_536):
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert status_line.startswith("HTTP/1."), data[:200]
    headers = {name.strip().lower(): value.strip() for name, _, value in (li.partition(":") for li in lines)}
    return Answer(int(status_line.split()[1]), headers, body[:int(headers.get("content-length", len(body)))])


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    """The API on a real loopback socket, served by start() as the entry points serve it."""
    served = ServedApi(make_monitor()).start()
    yield served
    served.close()


def noisy(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """Records a flood must never produce: errors, and anything carrying a traceback."""
    return [r for r in records if r.levelno >= logging.ERROR or r.exc_info]


# --- malformed requests: JSON answers, a quiet log ----------------------------------------------

@pytest.mark.parametrize(("raw", "status", "reason"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_a_json_4xx(
    api: ServedApi, caplog: pytest.LogCaptureFixture, raw: bytes, status: int, reason: str
) -> None:
    answer = exchange(api.port, raw)
    assert answer.status == status
    error = answer.error()
    assert error["status"] == status and reason in error["message"].lower(), error
    assert "\n" not in error["message"] and len(error["message"]) < 200
    if status == 405:
        assert answer.headers["allow"] == "GET, HEAD"
    assert noisy(caplog.records) == []




def test_an_undecodable_body_is_one_warning_line_not_a_traceback(
    api: ServedApi, caplog: pytest.LogCaptureFixture
) -> None:
    # aiohttp finds this only after the answer, draining the body the handler did not read.
    raw = (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Content-Encoding: deflate\r\n"
           b"Content-Length: 10\r\n\r\n0123456789")
    assert exchange(api.port, raw).error()["status"] == 405
    wait_for(lambda: any("request body" in r.getMessage() for r in caplog.records), "a log line on the body")
    [record] = [r for r in caplog.records if r.name == "perfmon.api.edge.connection"]
    assert record.levelno == logging.WARNING and "deflate" in record.getMessage()
    assert noisy(caplog.records) == []


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("a bug")


async def gone(request: web.Request) -> web.Response:
    raise web.HTTPNotFound()


async def test_a_failure_aiohttp_catches_is_a_json_500_and_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = web.Application()
    app.router.add_get("/crash", crash)  # no JSON boundary, so aiohttp's own handling answers
    app.router.add_get("/gone", gone)
    runner, url = await start(ServerConfig(port=0), app)
    port = int(url.rsplit(":", 1)[1])
    try:
        answer = await asyncio.to_thread(exchange, port, b"GET /crash HTTP/1.1\r\n" + HOST + b"\r\n")
        gone_answer = await asyncio.to_thread(
            exchange, port, b"GET /gone HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")
    finally:
        await runner.cleanup()
    assert answer.status == 500 and "internal server error" in answer.error()["message"]
    assert any(r.name == "aiohttp.server" and r.exc_info for r in caplog.records)  # a bug stays loud
    assert gone_answer.status == 404  # a handler's own 404 on a path is left alone


def test_normal_requests_share_a_kept_alive_connection(api: ServedApi) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(b"GET /api HTTP/1.1\r\n" + HOST + b"\r\n" + b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 2:
            chunk = sock.recv(65_536)
            assert chunk, data
            data += chunk


# --- running out of file descriptors -------------------------------------------------------------

def accept_failed() -> dict[str, Any]:
    """The context asyncio's selector loop passes on when accept() finds no descriptor left."""
    return {"message": ACCEPT_ERROR_MESSAGE, "exception": OSError(errno.EMFILE, "Too many open files"),
            "socket": None}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def test_failed_accepts_are_one_warning_line_per_window(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(0.0)
    install_accept_error_limiter(loop, window_seconds=10, clock=clock)
    for _ in range(50):
        loop.call_exception_handler(accept_failed())
    clock.advance(10)
    loop.call_exception_handler(accept_failed())
    lines = [r for r in caplog.records if r.name == "perfmon.api.edge.limits"]
    assert [r.levelno for r in lines] == [logging.WARNING, logging.WARNING]
    assert "Too many open files" in lines[0].getMessage() and "ulimit -n" in lines[0].getMessage()
    assert "49 more since the last such line" in lines[1].getMessage()
    assert noisy(caplog.records) == []


def test_other_loop_errors_still_reach_asyncio_with_their_traceback(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    install_accept_error_limiter(loop)
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        loop.call_exception_handler({"message": "Task exception was never retrieved", "exception": exc})
    [record] = caplog.records
    assert record.name == "asyncio" and record.levelno == logging.ERROR and record.exc_info


def test_a_handler_installed_before_keeps_the_other_errors(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: seen.append(context))
    limiter = install_accept_error_limiter(loop)
    assert install_accept_error_limiter(loop) is limiter  # a server restarted on the same loop
    assert isinstance(loop.get_exception_handler(), AcceptErrorLimiter)
    loop.call_exception_handler(accept_failed())
    loop.call_exception_handler({"message": "something else"})
    assert seen == [{"message": "something else"}]


def resume_accepts_on_a_closed_socket(loop: asyncio.AbstractEventLoop) -> None:
    """What asyncio does a second after a failed accept, when the server was stopped meanwhile."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    listening.close()  # fileno() is now -1
    loop.call_soon(loop._start_serving, asyncio.Protocol, listening)  # type: ignore[attr-defined]
    loop.run_until_complete(asyncio.sleep(0))


def test_resuming_accepts_on_a_socket_closed_at_a_stop_logs_no_traceback(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    resume_accepts_on_a_closed_socket(loop)  # without the limiter: asyncio's ERROR and traceback
    assert [r.levelno for r in caplog.records if r.name == "asyncio"] == [logging.ERROR]
    caplog.clear()
    install_accept_error_limiter(loop)
    resume_accepts_on_a_closed_socket(loop)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []




# --- raising the open-files limit ---------------------------------------------------------------

SOFT, HARD = resource.getrlimit(resource.RLIMIT_NOFILE)
EXPECTED_SOFT = MAX_OPEN_FILES if HARD == resource.RLIM_INFINITY else min(HARD, MAX_OPEN_FILES)
needs_headroom = pytest.mark.skipif(EXPECTED_SOFT <= 256, reason="the hard open-files limit is too low")


def lower_soft_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, HARD))






def test_raise_open_files_limit_never_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise ValueError("not allowed")

    monkeypatch.setattr(resource, "getrlimit", lambda _: (256, 4096))
    monkeypatch.setattr(resource, "setrlimit", refuse)
    assert raise_open_files_limit() == (256, 4096)
    monkeypatch.setattr(resource, "getrlimit", lambda _: refuse())
    assert raise_open_files_limit() == (-1, -1)


def test_an_unlimited_hard_limit_is_capped_and_a_high_soft_one_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: calls.append(limits))
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, resource.RLIM_INFINITY))
    assert raise_open_files_limit() == (MAX_OPEN_FILES, resource.RLIM_INFINITY)
    monkeypatch.setattr(resource, "getrlimit", lambda _: (65_536, 65_536))
    assert raise_open_files_limit() == (65_536, 65_536)
    assert calls == [(MAX_OPEN_FILES, resource.RLIM_INFINITY)]
