"""The dashboard's gate on its real server: sign-in, the session cookie, Host and Origin, the headers.

Each dashboard runs as the launcher runs it (uvicorn on a loopback port, in a thread) with
a test's clocks: the wall clock dates sessions, the monotonic one counts failed sign-ins.
Requests are sent one by one with ``requests``, never following redirects and with the
cookie set by hand, so each test sees exactly what the server answered.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import trustme

from perfmon.api.app import Monitor
from perfmon.runtime.servers import DashboardServerThread
from perfmon.settings import DashboardConfig, Security
from perfmon.ui.app import create_dashboard
from perfmon.ui.edge.login import safe_next
from perfmon.ui.edge.sessions import COOKIE_NAME, LIFETIME_SECONDS, MAX_REVOKED, Sessions
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.source.transport import ApiHttp, ApiStarting, ApiUnavailable
from perfmon.ui.tick import signature
from tests.support.apiserver import ServedApi, serving
from tests.support.fakes import FakeClock

TOKEN = "correct-horse-battery-staple-42"
OWN_PAGE = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}  # a form of the page, under no-referrer
SECURED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
ASSET = "/_dash-component-suites/dash/deps/react@18.v4_4_1m1795674342.3.1.min.js"
PROTECTED = {  # without a session: pages go to the login page, Dash's data and files are a 401
    ("GET", "/"): 303, ("HEAD", "/"): 303, ("GET", "/_favicon.ico"): 303,
    ("GET", "/_dash-layout"): 401, ("GET", "/_dash-dependencies"): 401,
    ("POST", "/_dash-update-component"): 401, ("GET", ASSET): 401,
    ("GET", "/assets/perfmon.css"): 401, ("GET", "/assets/perfmon.js"): 401,
    ("POST", "/"): 401,
}


class Dashboard:
    """A dashboard served on a loopback port in a thread; requests sent as they are, cookie by hand."""

    def __init__(self, config: DashboardConfig, client: PerformanceClient | None = None,
                 wall: FakeClock | None = None, mono: FakeClock | None = None,
                 verify: str | bool = True) -> None:
        self.wall = wall or FakeClock(1_700_000_000.0)
        self.mono = mono or FakeClock(1000.0)
        app = create_dashboard(config, client, wall=self.wall, monotonic=self.mono)
        self.thread = DashboardServerThread(replace(config, port=0), app=app)
        self.thread.start()
        self.base = self.thread.url.rstrip("/")
        self.host = self.base.split("://", 1)[1]
        self.verify = verify  # the CA of an HTTPS dashboard

    def request(self, method: str, path: str, cookie: str | None = None, **options: Any) -> requests.Response:
        headers = dict(options.pop("headers", {}))
        if cookie is not None:
            headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
        return requests.request(method, self.base + path, headers=headers, allow_redirects=False,
                                timeout=10, verify=self.verify, **options)

    def sign_in(self, token: str = TOKEN, next_path: str = "/", **options: Any) -> requests.Response:
        return self.request("POST", "/login", data={"token": token, "next": next_path}, **options)

    def session(self) -> str:
        """A signed-in session's cookie value."""
        response = self.sign_in()
        assert response.status_code == 303, response.text
        return set_cookie(response)["value"]

    def tick(self, cookie: str | None = None, **options: Any) -> requests.Response:
        return self.request("POST", signature.URL_PATH, cookie, json=signature.request_body(0), **options)

    def close(self) -> None:
        self.thread.stop()
        self.thread.join(10)


def set_cookie(response: requests.Response) -> dict[str, str]:
    """The session's Set-Cookie as {"value": ..., attribute (lower case): value or ""}."""
    [line] = [value for key, value in response.raw.headers.items() if key.lower() == "set-cookie"]
    first, *attributes = [part.strip() for part in line.split(";")]
    name, _, value = first.partition("=")
    assert name == COOKIE_NAME
    return {"value": value, **{a.partition("=")[0].lower(): a.partition("=")[2] for a in attributes}}


@pytest.fixture
def api(make_monitor: Callable[..., Monitor]) -> Iterator[ServedApi]:
    served = ServedApi(make_monitor(process_interval_seconds=1.0)).start()
    served.sample(2)
    yield served
    served.close()


@pytest.fixture
def make_dashboard() -> Iterator[Callable[..., Dashboard]]:
    started: list[Dashboard] = []

    def make(config: DashboardConfig, **options: Any) -> Dashboard:
        started.append(Dashboard(config, **options))
        return started[-1]

    yield make
    for dashboard in started:
        dashboard.close()


@pytest.fixture
def dash(api: ServedApi, make_dashboard: Callable[..., Dashboard]) -> Dashboard:
    """A dashboard with a token, reading the real API."""
    return make_dashboard(DashboardConfig(api_url=api.url, security=Security(token=TOKEN)))


@pytest.fixture
def open_dash(api: ServedApi, make_dashboard: Callable[..., Dashboard]) -> Dashboard:
    """A dashboard without a token (loopback only): nobody signs in."""
    return make_dashboard(DashboardConfig(api_url=api.url))


def assert_secured(response: requests.Response) -> dict[str, str]:
    """Every security header is there, and the CSP allows no inline or evaluated script; the CSP."""
    for name, value in SECURED.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    assert "server" not in response.headers
    policy = dict(part.split(" ", 1) for part in response.headers["content-security-policy"].split("; "))
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["script-src"].startswith("'self' 'sha256-")
    assert "unsafe" not in policy["script-src"]
    return policy


# Signing in


def test_without_a_token_nobody_signs_in(open_dash: Dashboard) -> None:
    page = open_dash.request("GET", "/")
    assert page.status_code == 200 and b"<title>perfmon</title>" in page.content
    assert open_dash.request("GET", "/_dash-layout").status_code == 200
    assert open_dash.tick().status_code == 200
    assert open_dash.request("GET", "/login").status_code == 404
    assert "logout" not in open_dash.request("GET", "/_dash-layout").text
    assert_secured(page)


def test_the_login_page_is_a_password_form_without_script(dash: Dashboard) -> None:
    page = dash.request("GET", "/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'type="password"' in page.text and 'action="/login"' in page.text
    assert "<script" not in page.text and "style=" not in page.text
    assert page.headers["cache-control"] == "no-store"
    css = dash.request("GET", "/login.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert b".login" in css.content
    assert "login.css" not in dash.request("GET", "/", dash.session()).text  # not on the dashboard


@pytest.mark.parametrize(("method", "path"), PROTECTED.keys(), ids=[f"{m} {p}" for m, p in PROTECTED])
def test_without_a_session_pages_go_to_the_login_page_and_data_is_a_401(
        dash: Dashboard, method: str, path: str) -> None:
    response = dash.request(method, path, json=signature.request_body(0) if method == "POST" else None)
    assert response.status_code == PROTECTED[method, path]
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login")
    else:
        error = response.json()["error"]
        assert error["status"] == 401 and "sign in" in error["message"]
    assert_secured(response)


def test_the_login_page_brings_back_the_address_asked_for(dash: Dashboard) -> None:
    asked = dash.request("GET", "/?range=1h")
    assert asked.headers["location"] == "/login?next=%2F%3Frange%3D1h"
    form = dash.request("GET", asked.headers["location"])
    assert 'name="next" value="/?range=1h"' in form.text
    assert dash.sign_in(next_path="/?range=1h").headers["location"] == "/?range=1h"


def test_the_right_token_signs_in_with_an_http_only_strict_cookie(dash: Dashboard) -> None:
    response = dash.sign_in()
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = set_cookie(response)
    assert cookie.keys() == {"value", "httponly", "samesite", "path", "max-age"}  # no Secure over HTTP
    assert cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert cookie["max-age"] == str(LIFETIME_SECONDS) == "43200"
    assert TOKEN not in cookie["value"]
    assert dash.request("GET", "/", cookie["value"]).status_code == 200
    layout = json.dumps(dash.request("GET", "/_dash-layout", cookie["value"]).json())
    assert '"action": "/logout", "className": "logout", "method": "post"' in layout  # a form: a POST
    updates, _, _ = signature.read_response(dash.tick(cookie["value"]).content)
    assert updates["status.children"] == "Connected"
    assert dash.request("GET", ASSET, cookie["value"]).status_code == 200
    assert dash.request("GET", "/login", cookie["value"]).headers["location"] == "/"  # signed in already


def test_over_https_the_cookie_is_secure(api: ServedApi, make_dashboard: Callable[..., Dashboard],
                                        tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key, authority = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    security = Security(token=TOKEN, tls_cert=cert, tls_key=key)
    dash = make_dashboard(DashboardConfig(api_url=api.url, security=security), verify=str(authority))
    assert dash.base.startswith("https://")
    cookie = set_cookie(dash.sign_in())
    assert "secure" in cookie and cookie["samesite"] == "Strict"
    assert dash.tick(cookie["value"], headers={"Origin": dash.base}).status_code == 200
    plain = dash.base.replace("https", "http")
    assert dash.tick(cookie["value"], headers={"Origin": plain}).status_code == 403


@pytest.mark.parametrize("next_path", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                       "evil", "/logout", "/login?next=/", "/\u00e9t\u00e9", "/a b"])
def test_after_signing_in_the_browser_never_goes_to_another_site(dash: Dashboard, next_path: str) -> None:
    assert dash.sign_in(next_path=next_path).headers["location"] == "/"


def test_a_wrong_token_is_a_401_page_and_one_warning_without_the_token(
        dash: Dashboard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="perfmon.ui")
    response = dash.sign_in(token=TOKEN[:-1] + "x")
    assert response.status_code == 401 and "Wrong token." in response.text
    assert "set-cookie" not in response.headers and 'type="password"' in response.text
    assert_secured(response)
    [record] = [r for r in caplog.records if r.name.startswith("perfmon.ui")]
    assert record.levelname == "WARNING" and "127.0.0.1" in record.getMessage()
    assert TOKEN[:8] not in record.getMessage()
    assert dash.sign_in(token="").status_code == 401
    assert dash.sign_in(token="é" * 40).status_code == 401


def test_after_five_failures_in_a_minute_wrong_tokens_wait_with_a_429_and_the_right_one_signs_in(
        dash: Dashboard, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="perfmon.ui")
    for _ in range(5):
        assert dash.sign_in(token="wrong-token-wrong-token").status_code == 401
    refused = dash.sign_in(token="wrong-token-wrong-token")
    assert refused.status_code == 429 and "set-cookie" not in refused.headers
    assert refused.headers["retry-after"] == "10"  # the first penalty
    assert "try again in 10 s" in refused.text
    assert_secured(refused)
    # Someone else at this address (everyone behind one proxy is) signs in all the same.
    signed_in = dash.sign_in()
    assert signed_in.status_code == 303 and set_cookie(signed_in)["value"]
    for _ in range(20):
        assert dash.sign_in(token="wrong-token-wrong-token").status_code == 429  # still slowed down
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("perfmon.ui")]
    assert len(lines) == 2 and "counted, not logged" in lines[0]  # a guesser does not flood the log
    assert "slowing down 127.0.0.1" in lines[1] and "the right token is still served" in lines[1]
    dash.mono.advance(10)
    assert dash.sign_in(token="wrong-token-wrong-token").status_code == 401
    assert dash.sign_in().status_code == 303


# The session


def test_a_session_ends_after_12_hours(dash: Dashboard) -> None:
    cookie = dash.session()
    dash.wall.advance(LIFETIME_SECONDS - 1)
    assert dash.request("GET", "/_dash-layout", cookie).status_code == 200
    dash.wall.advance(1)
    assert dash.request("GET", "/_dash-layout", cookie).status_code == 401
    assert dash.request("GET", "/", cookie).headers["location"] == "/login"


def tampered(value: str) -> dict[str, str]:
    expires, session_id, mac = value.split(".")
    flipped = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    return {
        "a changed signature": f"{expires}.{session_id}.{flipped}",
        "a later expiry": f"{int(expires) + 3600}.{session_id}.{mac}",
        "another id": f"{expires}.{session_id[::-1]}.{mac}",
        "no signature": f"{expires}.{session_id}",
        "garbage": "x" * 4000,
        "a signature of another token (a rotated token)": Sessions("another-token-of-16+chars").issue(),
        "the token itself": TOKEN,
    }


def test_a_tampered_or_foreign_cookie_is_no_session(dash: Dashboard) -> None:
    for name, value in tampered(dash.session()).items():
        assert dash.request("GET", "/_dash-layout", value).status_code == 401, name
        assert dash.tick(value).status_code == 401, name


def test_a_new_token_ends_every_session(tmp_path: Path) -> None:
    wall = FakeClock(1_700_000_000.0)
    before = Sessions("first-token-of-16+chars", tmp_path, clock=wall)
    value = before.issue()
    assert before.check(value) is not None
    before.close()
    again = Sessions("first-token-of-16+chars", tmp_path, clock=wall)
    assert again.check(value) is not None  # a restart keeps it
    again.close()
    assert Sessions("second-token-of-16+chars", tmp_path, clock=wall).check(value) is None


def test_signing_out_is_a_post_that_forgets_the_cookie_and_ends_the_session(dash: Dashboard) -> None:
    cookie = dash.session()
    response = dash.request("POST", "/logout", cookie, headers=OWN_PAGE, data={"scope": "this"})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    cleared = set_cookie(response)
    assert cleared["value"] == "" and cleared["max-age"] == "0"
    assert_secured(response)
    assert dash.request("GET", "/_dash-layout", cookie).status_code == 401  # a copy of it is no use
    without = dash.request("POST", "/logout", headers=OWN_PAGE)  # without a session: nothing to clear
    assert without.status_code == 303 and "set-cookie" not in without.headers
    assert dash.request("GET", "/_dash-layout", dash.session()).status_code == 200


def test_revoked_sessions_are_bounded_and_beyond_the_bound_every_session_ends() -> None:
    wall = FakeClock(1_700_000_000.0)
    sessions = Sessions(TOKEN, clock=wall)
    values = [sessions.issue() for _ in range(3)]
    sessions.revoke(values[:2])
    assert [sessions.check(value) is None for value in values] == [True, True, False]
    wall.advance(LIFETIME_SECONDS)  # those two expire: their revocations go
    many = [sessions.issue() for _ in range(MAX_REVOKED + 1)]
    assert sessions.revoke(many[:MAX_REVOKED])
    assert len(sessions._state.revoked) == MAX_REVOKED
    assert sessions.check(many[-1]) is not None
    assert sessions.revoke([many[-1]])  # one more: no sign-out is forgotten, every session ends instead
    assert sessions._state.revoked == {} and sessions.check(many[-1]) is None
    assert all(sessions.check(value) is None for value in many)


def test_safe_next_keeps_paths_of_this_server() -> None:
    assert safe_next("/?range=1h&start=1") == "/?range=1h&start=1"
    assert safe_next("/x" * 1001) == "/"
    assert safe_next("") == "/"


# Host and Origin


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8050", "127.0.0.1.evil.example", ""])
def test_a_host_not_named_is_a_400_page(dash: Dashboard, open_dash: Dashboard, host: str) -> None:
    for dashboard in (dash, open_dash):
        for method, path in (("GET", "/"), ("GET", "/login"), ("GET", "/_dash-layout")):
            response = dashboard.request(method, path, headers={"Host": host})
            assert response.status_code == 400, (dashboard is dash, path)
            assert "does not answer to that name" in response.text
            assert response.headers["content-type"].startswith("text/html")
            assert_secured(response)
        assert dashboard.request("GET", "/", headers={"Host": f"localhost:{dashboard.host.split(':')[1]}"}).ok


ORIGINS = {  # Origin, Sec-Fetch-Site -> allowed
    "another site": ("http://evil.example", None, False),
    "another port": ("http://127.0.0.1:1", None, False),
    "https of this host": ("https://{host}", None, False),
    "a sandboxed frame": ("null", "cross-site", False),
    "the same origin": ("http://{host}", "same-origin", True),
    "the same origin under no-referrer": ("null", "same-origin", True),
    "no Origin (curl, the benchmarks)": (None, None, True),
}


@pytest.mark.parametrize("origin", ORIGINS.values(), ids=ORIGINS.keys())
def test_a_post_from_another_site_is_a_403(open_dash: Dashboard, dash: Dashboard,
                                           origin: tuple[str | None, str | None, bool]) -> None:
    value, fetch_site, allowed = origin
    headers = {"Origin": value.format(host=open_dash.host)} if value else {}
    if fetch_site:
        headers["Sec-Fetch-Site"] = fetch_site
    response = open_dash.tick(headers=headers)
    assert response.status_code == (200 if allowed else 403)
    assert_secured(response)
    if not allowed:
        assert response.json()["error"]["status"] == 403
        headers = {**headers, "Origin": headers["Origin"].replace(open_dash.host, dash.host)}
        assert dash.sign_in(headers=headers).status_code == 403
        assert dash.tick(dash.session(), headers=headers).status_code == 403


# The headers


def inline_scripts(page: str) -> list[str]:
    """The inline scripts a browser runs (not JSON data, not inside HTML comments)."""
    page = re.sub(r"<!--.*?-->", "", page, flags=re.DOTALL)
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", page, flags=re.DOTALL)
    return [body for attributes, body in scripts if "application/json" not in attributes]


def test_every_answer_carries_the_security_headers(dash: Dashboard) -> None:
    cookie = dash.session()
    page = dash.request("GET", "/", cookie)
    policy = assert_secured(page)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
              for s in inline_scripts(page.text)}
    assert hashes and hashes <= set(policy["script-src"].split())  # Dash's inline scripts run
    assert policy["style-src"] == "'self' 'unsafe-inline'" and policy["img-src"] == "'self' data: blob:"
    answers = [page, dash.request("GET", "/login"), dash.request("GET", "/login.css"), dash.sign_in(),
               dash.sign_in(token="wrong-token-wrong-token"), dash.request("GET", "/_dash-layout"),
               dash.request("GET", ASSET, cookie), dash.request("GET", "/nothing-here", cookie),
               dash.request("GET", "/", headers={"Host": "evil.example"}),
               dash.tick(cookie, headers={"Origin": "http://evil.example"}),
               dash.request("POST", signature.URL_PATH, cookie, data=b"not json"),
               dash.request("POST", "/login", data=b"x" * (1024 * 1024 + 1))]
    etag = answers[6].headers["etag"]
    answers.append(dash.request("GET", ASSET, cookie, headers={"If-None-Match": etag}))
    assert [a.status_code for a in answers] == [200, 200, 200, 303, 401, 401, 200, 404, 400, 403, 400, 413,
                                                304]
    for answer in answers:
        assert_secured(answer)


# The dashboard's side of the API


class Recording(http.server.BaseHTTPRequestHandler):
    """A stand-in API that records each request's headers and says it is starting."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        body = json.dumps({"error": {"status": 503, "message": "starting"}}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def test_the_api_is_asked_with_the_token_as_a_bearer_and_the_browser_never_sees_it(
        make_dashboard: Callable[..., Dashboard]) -> None:
    Recording.seen = []
    with serving(Recording) as url:
        dash = make_dashboard(DashboardConfig(api_url=url, security=Security(token=TOKEN)))
        cookie = dash.session()
        answer = dash.tick(cookie)
        assert answer.status_code == 200 and TOKEN not in answer.text
    assert Recording.seen and all(h.get("Authorization") == f"Bearer {TOKEN}" for h in Recording.seen)
    assert all(TOKEN not in dash.request("GET", path, cookie).text for path in ("/", "/_dash-layout"))


def test_without_a_token_the_api_is_asked_without_authorization(
        make_dashboard: Callable[..., Dashboard]) -> None:
    Recording.seen = []
    with serving(Recording) as url:
        assert make_dashboard(DashboardConfig(api_url=url)).tick().status_code == 200
    assert Recording.seen and all("Authorization" not in headers for headers in Recording.seen)


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A stand-in API over HTTPS with a certificate of a private CA; its URL and the CA's file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    yield f"https://127.0.0.1:{server.server_address[1]}", tmp_path / "ca.pem"
    server.shutdown()
    server.server_close()


async def test_an_https_api_is_verified_with_the_given_ca(https_api: tuple[str, Path]) -> None:
    url, ca_file = https_api
    Recording.seen = []
    trusting = ApiHttp(url, token=TOKEN, ca_file=ca_file)
    with pytest.raises(ApiStarting):  # the stand-in's answer: TLS went through
        await trusting.get_json("/api/performance", None, 5)
    await trusting.close()
    assert Recording.seen[0]["Authorization"] == f"Bearer {TOKEN}"
    system = ApiHttp(url, token=TOKEN)  # the system's CAs do not know this one
    with pytest.raises(ApiUnavailable):
        await system.get_json("/api/performance", None, 5)
    await system.close()
    assert len(Recording.seen) == 1
