"""Every API answer goes through the JSON error path: ``Expect``, and what aiohttp would answer itself.

aiohttp answers an ``Expect`` it does not know (``999-foo``) with a text/plain 417 carrying its
version in ``Server`` and no security headers, before any route's checks. perfmon's routes run
their checks first (a bad Host is a 421, a missing token a 401: a final answer instead of inviting
a body), then answer ``100-continue`` with ``100 Continue`` and anything else with a JSON 417.
Requests are written raw to a real socket, as a client would send them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from perfmon.api.app import Monitor
from perfmon.settings import Security
from tests.integration.test_api_security import SECURITY_HEADERS
from tests.integration.test_hostile_http import MALFORMED, Answer, exchange
from tests.support.apiserver import ServedApi

TOKEN = "correct-horse-battery-staple-42"
HOST = b"Host: 127.0.0.1\r\n"
CLOSE = b"Connection: close\r\n"


@pytest.fixture
def make_api(make_monitor: Callable[..., Monitor]) -> Iterator[Callable[..., ServedApi]]:
    served: list[ServedApi] = []

    def make(token: str | None = None) -> ServedApi:
        served.append(ServedApi(make_monitor(security=Security(token=token))).start())
        served[-1].sample()
        return served[-1]

    yield make
    for api in served:
        api.close()


@pytest.fixture
def api(make_api: Callable[..., ServedApi]) -> ServedApi:
    return make_api()


def assert_secured(answer: Answer) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name.lower()) == value, (answer.status, name)
    assert answer.headers["server"] == "perfmon"


def request(path: str, *headers: bytes, method: bytes = b"GET", version: bytes = b"1.1") -> bytes:
    return method + b" " + path.encode() + b" HTTP/" + version + b"\r\n" + b"".join(headers) + CLOSE + b"\r\n"


@pytest.mark.parametrize(("method", "path"), [(b"GET", "/api/health"), (b"POST", "/api/health"),
                                              (b"GET", "/no/such/path")])
def test_an_unknown_expectation_is_a_json_417_with_the_security_headers(
        api: ServedApi, method: bytes, path: str) -> None:
    answer = exchange(api.port, request(path, HOST, b"Expect: 999-foo\r\n", method=method))
    assert answer.status == 417
    assert "'999-foo' is not supported" in answer.error()["message"]
    assert_secured(answer)


def test_a_bad_host_is_a_421_before_the_expectation_is_looked_at(api: ServedApi) -> None:
    answer = exchange(api.port, request("/api/health", b"Host: evil.example\r\n", b"Expect: 999-foo\r\n"))
    assert answer.status == 421 and answer.error()["status"] == 421
    assert_secured(answer)


def test_without_the_token_an_expectation_gets_the_401_and_no_100_continue(
        make_api: Callable[..., ServedApi]) -> None:
    api = make_api(TOKEN)
    for expect in (b"Expect: 999-foo\r\n", b"Expect: 100-continue\r\n"):
        answer = exchange(api.port, request("/api/performance", HOST, expect))
        assert answer.status == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    with_token = exchange(api.port, request("/api/performance", HOST, b"Expect: 999-foo\r\n",
                                            f"Authorization: Bearer {TOKEN}\r\n".encode()))
    assert with_token.status == 417
    assert_secured(with_token)


def test_100_continue_is_answered_and_then_the_request(api: ServedApi) -> None:
    raw = (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\nContent-Length: 5\r\n"
           + CLOSE + b"\r\n")
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(raw)
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"  # the client may send its body now
        sock.sendall(b"hello")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 405 ") and b'"status": 405' in data
    get = exchange(api.port, request("/api/performance", HOST, b"Expect: 100-continue\r\n"))
    assert get.status == 100 and get.body.startswith(b"HTTP/1.1 200 OK\r\n")  # then the answer


def test_http_1_0_knows_no_expect_and_it_is_ignored(api: ServedApi) -> None:
    answer = exchange(api.port, request("/api/performance", HOST, b"Expect: 999-foo\r\n", version=b"1.0"))
    assert answer.status == 200


OTHERS = {  # what aiohttp's parser or router would otherwise answer on its own
    "HTTP/2 preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    "HTTP/1.2": (b"GET / HTTP/1.2\r\n" + HOST + b"\r\n", 400),
    "Content-Length and chunked": (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
                                   b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "two Content-Lengths": (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
                            b"Content-Length: 6\r\n\r\nhello", 400),
    "a 20-digit Content-Length": (b"POST /api/health HTTP/1.1\r\n" + HOST
                                  + b"Content-Length: 99999999999999999999\r\n\r\n", 400),
    "a space in a header name": (b"GET /api/health HTTP/1.1\r\n" + HOST + b"Bad Name: x\r\n\r\n", 400),
    "a 3 MB body": (b"POST /api/health HTTP/1.1\r\n" + HOST + b"Content-Length: 3000000\r\n" + CLOSE
                    + b"\r\n" + b"a" * 3_000_000, 405),
    "WebSocket upgrade": (request("/api/performance", HOST, b"Upgrade: websocket\r\n"), 200),
    "absolute-form target": (request("http://127.0.0.1/api/performance", HOST), 200),
}


EVERY = {**OTHERS, **{name: (raw, status) for name, (raw, status, _) in MALFORMED.items()}}


@pytest.mark.parametrize(("raw", "status"), EVERY.values(), ids=EVERY.keys())
def test_every_answer_is_ours(api: ServedApi, raw: bytes, status: int) -> None:
    answer = exchange(api.port, raw)
    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert_secured(answer)
