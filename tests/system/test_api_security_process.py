"""The API server as a real process with a token: it refuses requests without it and never logs it.

The token's checks in the app itself are tests/integration/test_api_security.py's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.test_api_security import (
    AUTH,
    SECURITY_HEADERS,
    TOKEN,
    WRONG,
    WRONG_TOKEN,
    raw_exchange,
)
from tests.support.processes import Running, free_port, http_get, wait_until_healthy


@pytest.fixture
def token_server() -> Iterator[tuple[Running, int]]:
    port = free_port()
    env = {**os.environ, "PERFMON_TOKEN": TOKEN, "PERFMON_INTERVAL": "0.2"}
    with Running("performance_api_server.py", "--port", str(port), env=env) as server:
        wait_until_healthy(f"http://127.0.0.1:{port}/api/health", server.proc)  # the status answers
        yield server, port


def test_a_server_with_a_token_refuses_without_it_and_never_logs_it(
    token_server: tuple[Running, int]
) -> None:
    server, port = token_server
    base = f"http://127.0.0.1:{port}"
    status, headers, _ = http_get(f"{base}/api/performance")
    assert status == 401 and headers["WWW-Authenticate"] == 'Bearer realm="perfmon"'
    assert http_get(f"{base}/api/performance", WRONG)[0] == 401
    status, headers, body = http_get(f"{base}/api/performance", AUTH)
    assert status == 200 and b'"seq"' in body and headers["Server"] == "perfmon"
    assert http_get(f"{base}/api/health")[2] == b'{"status":"ok"}'
    assert http_get(f"{base}/api", {**AUTH, "Host": "rebound.example"})[0] == 421
    for raw in (b"GET /api/performance HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                b"BREW /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):  # 401, and the parser's 400
        status, raw_headers = raw_exchange(port, raw)
        assert status in (400, 401)
        assert raw_headers["server"] == ["perfmon"]
        for name, value in SECURITY_HEADERS.items():
            assert raw_headers[name.lower()] == [value], (status, name)
    log = server.stderr()
    assert "authentication failed from 127.0.0.1: no token" in log
    assert TOKEN not in log and WRONG_TOKEN not in log and "Authorization" not in log
    assert "Traceback" not in log
