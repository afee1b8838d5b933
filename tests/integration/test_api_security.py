"""The API's guard: the Bearer token (401, 429 penalties), the Host allow-list (421), CORS, and the
headers every answer carries. Through aiohttp_client with a fake clock, and a real server process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from perfmon.api.app import ROUTES, Monitor, create_app
from perfmon.api.edge.security import Guard
from perfmon.core.edge import ThrottleRules
from perfmon.settings import Security
from tests.support.fakes import FakeClock

Client = TestClient[web.Request, web.Application]
Serve = Callable[..., Awaitable[Client]]

TOKEN = "t0k3n-" + "0123456789abcdef" * 2
WRONG_TOKEN = "guess-" + "fedcba9876543210" * 2
AUTH = {"Authorization": f"Bearer {TOKEN}"}
WRONG = {"Authorization": f"Bearer {WRONG_TOKEN}"}
ORIGIN = "https://dash.example:8443"
MAX_GUESSES = ThrottleRules().max_guesses
FIRST_PENALTY_SECONDS = ThrottleRules().first_penalty_seconds
PATHS = [path for path, _ in ROUTES]
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Server": "perfmon",
}


@pytest.fixture
def guard_clock() -> FakeClock:
    return FakeClock(10_000.0)


@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor]) -> Monitor:
    return make_monitor(clock=time.time)


@pytest.fixture
async def serve(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], monitor: Monitor, guard_clock: FakeClock
) -> AsyncIterator[Serve]:
    """Serve the monitor with the given Security settings (once per test), penalties on the fake clock."""

    async def make(**settings: object) -> Client:
        security = Security(**settings)  # type: ignore[arg-type]
        config = dataclasses.replace(monitor.config, security=security)
        app = create_app(config, monitor=monitor, sample=False, guard=Guard(security, clock=guard_clock))
        return await aiohttp_client(app)

    yield make
    monitor.sampler.shutdown_worker()


def assert_secured(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, dict(headers))
    assert headers.getall("Server") == ["perfmon"]  # no version, and aiohttp's own is not added


async def assert_error(response: object, status: int, *words: str) -> str:
    assert response.status == status  # type: ignore[attr-defined]
    assert response.content_type == "application/json"  # type: ignore[attr-defined]
    error = (await response.json())["error"]  # type: ignore[attr-defined]
    assert error["status"] == status
    for word in words:
        assert word in error["message"], error
    assert_secured(response)
    return str(error["message"])


async def parked(monitor: Monitor) -> None:
    async with asyncio.timeout(5):
        while monitor.hub.waiters < 1:
            await asyncio.sleep(0.001)


async def ready(monitor: Monitor) -> None:
    """A sample and a process scan, so every endpoint answers 200."""
    monitor.sampler.prime()
    await monitor.sampler.sample_once()


# --- the token ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
async def test_every_endpoint_needs_the_token(serve: Serve, monitor: Monitor, path: str) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    wrong = await client.get(path, headers=WRONG)
    message = await assert_error(wrong, 401, "wrong token", "Authorization: Bearer")
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="perfmon"'
    assert WRONG_TOKEN not in message and TOKEN not in message
    if path != "/api/health":
        missing = await client.get(path)
        await assert_error(missing, 401, "needs a token")
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="perfmon"'
    right = await client.get(path, headers=AUTH)
    assert right.status == 200, await right.text()
    assert_secured(right)


async def test_the_scheme_is_case_insensitive_and_only_bearer_counts(serve: Serve, monitor: Monitor) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    assert (await client.get("/api/performance", headers={"Authorization": f"bearer  {TOKEN}"})).status == 200
    basic = await client.get("/api/performance", headers={"Authorization": f"Basic {TOKEN}"})
    await assert_error(basic, 401, "not a Bearer token")
    bare = await client.get("/api/performance", headers={"Authorization": TOKEN})
    await assert_error(bare, 401, "not a Bearer token")


async def test_unknown_paths_and_other_methods_need_the_token_first(serve: Serve) -> None:
    client = await serve(token=TOKEN)
    await assert_error(await client.get("/api/nope"), 401)
    await assert_error(await client.get("/api/nope", headers=AUTH), 404, "no such endpoint")
    await assert_error(await client.post("/api/performance", data=b"x"), 401)
    response = await client.post("/api/performance", data=b"x", headers=AUTH)
    await assert_error(response, 405, "POST")
    assert response.headers["Allow"] == "GET, HEAD"


async def test_health_without_a_token_says_only_its_status(serve: Serve, monitor: Monitor) -> None:
    client = await serve(token=TOKEN)
    starting = await client.get("/api/health")
    assert starting.status == 503 and await starting.json() == {"status": "starting"}
    await ready(monitor)
    anonymous = await client.get("/api/health")
    assert anonymous.status == 200 and await anonymous.json() == {"status": "ok"}
    assert_secured(anonymous)
    full = await client.get("/api/health", headers=AUTH)
    body = await full.json()
    assert full.status == 200 and body["status"] == "ok" and "version" in body and "store" in body


async def test_without_a_token_configured_nothing_changes(serve: Serve, monitor: Monitor) -> None:
    client = await serve()
    await ready(monitor)
    for path in PATHS:
        for headers in ({}, WRONG):
            response = await client.get(path, headers=headers)
            assert response.status == 200, (path, headers)
            assert "WWW-Authenticate" not in response.headers
    assert "version" in await (await client.get("/api/health")).json()


# --- penalties -----------------------------------------------------------------------------------

async def test_repeated_wrong_tokens_get_429_until_the_penalty_ends_and_the_right_one_200_throughout(
    serve: Serve, monitor: Monitor, guard_clock: FakeClock
) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    for _ in range(MAX_GUESSES):
        await assert_error(await client.get("/api/performance", headers=WRONG), 401)
    # The address is slowed down: whatever it sends without the right token is a 429 ...
    for headers in (WRONG, {}, {"Authorization": f"Basic {TOKEN}"}):
        slowed = await client.get("/api/performance", headers=headers)
        await assert_error(slowed, 429, "retry in 10 s", "or send the right token")
        assert slowed.headers["Retry-After"] == str(int(FIRST_PENALTY_SECONDS))
    # ... but the right token is served, in any spelling: wrong tokens from the same address
    # (any local process, on 127.0.0.1) must not cut the dashboard off its API.
    for headers in (AUTH, {"Authorization": f"bearer  {TOKEN} "}):
        assert (await client.get("/api/performance", headers=headers)).status == 200
    guard_clock.advance(FIRST_PENALTY_SECONDS - 0.5)
    assert (await client.get("/api/history", headers=WRONG)).headers["Retry-After"] == "1"
    guard_clock.advance(0.5)
    await assert_error(await client.get("/api/performance", headers=WRONG), 401)
    # The address goes on guessing: the next penalty is twice as long.
    for _ in range(MAX_GUESSES - 1):
        await assert_error(await client.get("/api/processes", headers=WRONG), 401)
    slowed = await client.get("/api/performance", headers=WRONG)
    assert slowed.status == 429 and slowed.headers["Retry-After"] == str(int(2 * FIRST_PENALTY_SECONDS))
    assert (await client.get("/api/performance", headers=AUTH)).status == 200
    guard_clock.advance(2 * FIRST_PENALTY_SECONDS)
    await assert_error(await client.get("/api/performance", headers=WRONG), 401)


async def test_guesses_spread_wider_than_the_window_are_not_slowed(
    serve: Serve, monitor: Monitor, guard_clock: FakeClock
) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    for _ in range(3 * MAX_GUESSES):
        await assert_error(await client.get("/api/performance", headers=WRONG), 401)
        guard_clock.advance(61 / (MAX_GUESSES - 1))
    assert (await client.get("/api/performance", headers=AUTH)).status == 200


async def test_requests_without_a_token_are_refused_but_never_slowed(serve: Serve, monitor: Monitor) -> None:
    """Any web page can make its visitors send those: counting them would lock the visitors out."""
    client = await serve(token=TOKEN)
    await ready(monitor)
    for _ in range(4 * MAX_GUESSES):
        await assert_error(await client.get("/api/performance"), 401)
    assert (await client.get("/api/performance", headers=AUTH)).status == 200


async def test_health_probes_without_a_token_are_answered_during_a_penalty(
    serve: Serve, monitor: Monitor
) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    for _ in range(MAX_GUESSES):
        await client.get("/api/health", headers=WRONG)
    probe = await client.get("/api/health")
    assert probe.status == 200 and await probe.json() == {"status": "ok"}
    await assert_error(await client.get("/api/health", headers=WRONG), 429)
    full = await client.get("/api/health", headers=AUTH)
    assert full.status == 200 and "version" in await full.json()


async def test_failures_are_logged_once_per_address_per_window_without_any_token(
    serve: Serve, monitor: Monitor, guard_clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "perfmon.api")
    client = await serve(token=TOKEN)
    await client.get("/api/performance", headers=WRONG)
    for _ in range(3):
        await client.get("/api/performance")
    lines = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert lines == [lines[0]] and "from 127.0.0.1: wrong token" in lines[0]
    guard_clock.advance(61)
    await client.get("/api/performance", headers={"Authorization": f"Basic {TOKEN}"})
    lines = [r.getMessage() for r in caplog.records if "authentication failed" in r.getMessage()]
    assert len(lines) == 2 and "from 127.0.0.1: not a Bearer token (3 more since the last" in lines[1]
    for _ in range(MAX_GUESSES):
        await client.get("/api/performance", headers=WRONG)
    slowing = [r for r in caplog.records if "slowing down 127.0.0.1" in r.getMessage()]
    assert len(slowing) == 1 and slowing[0].levelno == logging.WARNING
    before = len(caplog.records)
    for _ in range(20):
        await assert_error(await client.get("/api/performance", headers=WRONG), 429)
    assert len(caplog.records) == before  # an address in a penalty costs no log line per request
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in caplog.records)
    for secret in (TOKEN, WRONG_TOKEN, "Authorization", "Basic"):  # no token, no header
        assert secret not in caplog.text


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="empty token"):
        Guard(Security(token=""))


# --- the Host allow-list -------------------------------------------------------------------------

@pytest.mark.parametrize("token", [None, TOKEN])
async def test_a_foreign_host_is_421_before_authentication(
    serve: Serve, monitor: Monitor, token: str | None
) -> None:
    client = await serve(token=token)
    await ready(monitor)
    for headers in (AUTH, WRONG, {}):
        response = await client.get("/api/performance", headers={**headers, "Host": "rebound.example:8000"})
        await assert_error(response, 421, "misdirected request: Host rebound.example:8000 is not one of "
                                          "this server's names; add it with --allowed-hosts")
    for _ in range(2 * MAX_GUESSES):  # refused before the token is looked at: no penalty
        await client.get("/api/health", headers={**WRONG, "Host": "rebound.example"})
    assert (await client.get("/api/performance", headers=AUTH)).status == 200


@pytest.mark.parametrize("host", ["[::1]:8000", "[::1]", "localhost", "LOCALHOST.:80", "127.0.0.1:1"])
async def test_loopback_names_are_allowed(serve: Serve, monitor: Monitor, host: str) -> None:
    client = await serve()
    await ready(monitor)
    assert (await client.get("/api/performance", headers={"Host": host})).status == 200


async def test_named_hosts_and_the_wildcard(serve: Serve, monitor: Monitor) -> None:
    client = await serve(allowed_hosts=("monitor.example",))
    await ready(monitor)
    assert (await client.get("/api", headers={"Host": "monitor.example:8000"})).status == 200
    await assert_error(await client.get("/api", headers={"Host": "localhost"}), 421, "--allowed-hosts")
    await assert_error(await client.get("/nope", headers={"Host": "other.example"}), 421)


async def test_any_host_with_the_wildcard(serve: Serve, monitor: Monitor) -> None:
    client = await serve(allowed_hosts=("*",))
    assert (await client.get("/api", headers={"Host": "anything.example"})).status == 200


# --- CORS ---------------------------------------------------------------------------------------

async def test_an_allowed_origin_may_read_answers(serve: Serve, monitor: Monitor) -> None:
    client = await serve(token=TOKEN, cors_origins=(ORIGIN,))
    await ready(monitor)
    response = await client.get("/api/performance", headers={**AUTH, "Origin": ORIGIN})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    assert response.headers["Vary"] == "Accept-Encoding, Origin"
    assert "Access-Control-Allow-Credentials" not in response.headers
    refused = await client.get("/api/performance", headers={"Origin": ORIGIN})  # its error too
    assert refused.status == 401 and refused.headers["Access-Control-Allow-Origin"] == ORIGIN
    etag = response.headers["ETag"]
    unchanged = await client.get("/api/performance",
                                 headers={**AUTH, "Origin": ORIGIN, "If-None-Match": etag})
    assert unchanged.status == 304 and unchanged.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_a_preflight_from_an_allowed_origin_is_204_without_a_token(serve: Serve) -> None:
    client = await serve(token=TOKEN, cors_origins=(ORIGIN,))
    response = await client.options("/api/performance", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, if-none-match"})
    assert response.status == 204 and await response.read() == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, If-None-Match"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Origin" in response.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert_secured(response)


async def test_another_origin_gets_no_cors_headers(serve: Serve, monitor: Monitor) -> None:
    client = await serve(token=TOKEN, cors_origins=(ORIGIN,))
    await ready(monitor)
    other = {"Origin": "https://evil.example"}
    response = await client.get("/api/performance", headers={**AUTH, **other})
    assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding, Origin"  # a cache must not mix the two
    preflight = {**other, "Access-Control-Request-Method": "GET"}
    await assert_error(await client.options("/api/performance", headers=preflight), 401)
    refused = await client.options("/api/performance", headers={**preflight, **AUTH})
    await assert_error(refused, 405, "OPTIONS")
    assert not any(name.startswith("Access-Control-") for name in refused.headers)


async def test_no_cors_headers_by_default(serve: Serve, monitor: Monitor) -> None:
    client = await serve()
    await ready(monitor)
    response = await client.get("/api/performance", headers={"Origin": ORIGIN})
    assert not any(name.startswith("Access-Control-") for name in response.headers)
    assert response.headers["Vary"] == "Accept-Encoding"
    await assert_error(await client.options("/api/performance", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET"}), 405)


# --- the headers of every answer -----------------------------------------------------------------

async def test_every_kind_of_answer_carries_the_security_headers(
    serve: Serve, monitor: Monitor
) -> None:
    client = await serve(token=TOKEN)
    await ready(monitor)
    ok = await client.get("/api/performance", headers=AUTH)
    assert ok.status == 200
    assert_secured(ok)
    for path in ("/api/performance", "/api/processes"):
        etag = (await client.get(path, headers=AUTH)).headers["ETag"]
        unchanged = await client.get(path, headers={**AUTH, "If-None-Match": etag})
        assert unchanged.status == 304
        assert_secured(unchanged)
    for path in PATHS:
        assert_secured(await client.get(path, headers=AUTH))
    assert_secured(await client.get("/api/history?format=csv", headers=AUTH))
    await assert_error(await client.get("/api/performance"), 401)
    await assert_error(await client.get("/nope", headers=AUTH), 404)
    await assert_error(await client.delete("/api/history", headers=AUTH), 405)
    await assert_error(await client.get("/api/processes?limit=0", headers=AUTH), 400)
    await assert_error(await client.get("/api", headers={**AUTH, "Host": "x.example"}), 421)
    for _ in range(MAX_GUESSES):
        await client.get("/api", headers=WRONG)
    await assert_error(await client.get("/api", headers=WRONG), 429)


async def woken_poll(client: Client, monitor: Monitor, headers: dict[str, str]) -> ClientResponse:
    """A long-poll with ``headers``, parked and then woken by the next sample: its answer."""
    await ready(monitor)
    etag = (await client.get("/api/performance", headers=headers)).headers["ETag"]
    poll = asyncio.create_task(client.get("/api/performance?wait=10",
                                          headers={**headers, "If-None-Match": etag}))
    await parked(monitor)
    await monitor.sampler.sample_once()
    return await asyncio.wait_for(poll, 5)


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
@pytest.mark.parametrize("cors", [(), (ORIGIN,)])
async def test_a_woken_long_poll_carries_them_too(
    serve: Serve, monitor: Monitor, encoding: str, cors: tuple[str, ...]
) -> None:
    """Woken long-polls are prebuilt bytes (api.endpoints.prebuilt), written before any handler runs."""
    client = await serve(token=TOKEN, cors_origins=cors)
    woken = await woken_poll(client, monitor, {**AUTH, "Accept-Encoding": encoding})
    assert woken.status == 200 and (await woken.json())["seq"] == 2
    assert_secured(woken)
    assert woken.headers["Vary"] == ("Accept-Encoding, Origin" if cors else "Accept-Encoding")


async def test_a_cross_origin_long_poll_is_woken_with_its_cors_headers(
    serve: Serve, monitor: Monitor
) -> None:
    client = await serve(token=TOKEN, cors_origins=(ORIGIN,))
    woken = await woken_poll(client, monitor, {**AUTH, "Origin": ORIGIN})
    assert woken.status == 200 and woken.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert_secured(woken)


# --- a real server process -----------------------------------------------------------------------

def raw_exchange(port: int, raw: bytes) -> tuple[int, dict[str, list[str]]]:
    """Send ``raw`` on a new connection; the status and the headers (lower-case names) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while b"\r\n\r\n" not in data and (chunk := sock.recv(65_536)):
                data += chunk
    status_line, *lines = data.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split()[1]), headers




