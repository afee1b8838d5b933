"""Who the dashboard answers: its own names, its own pages' posts, and (with a token) signed-in browsers.

Checked before anything else on every request, in this order:

- a ``Host`` that is not one of the dashboard's names is a 400 page (a DNS-rebinding page
  reaches loopback under another name);
- a POST (any unsafe method) whose ``Origin`` is another site's is a 403; one without an
  ``Origin`` (curl, the benchmarks) passes;
- with a token, ``/login``, ``/logout`` and ``/login.css`` are answered here; anything else
  needs the session cookie: a page is a 303 to the login page, Dash's data and files a 401.
  Signing out is a POST only, and one without an ``Origin`` is a 403 too: every browser
  sends one with a form's POST, so no other site's page, link or script signs anyone out.

Every answer, whoever makes it, carries the headers of :func:`security_headers`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from perfmon.settings import Security
from perfmon.ui.edge.login import LOGIN_PATH, LOGOUT_PATH, STYLESHEET_PATH, Login, login_url
from perfmon.ui.edge.plumbing import (
    MAX_BODY_BYTES,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    redirect,
    send_html,
    send_json,
)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
DATA_PREFIXES = ("/_dash-", "/assets/")  # Dash's layout, callbacks and files: a 401, not the login page
Route = Callable[[Scope, Receive, Send], Awaitable[None]]
FOREIGN_HOST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>perfmon: unknown name</title></head>
<body><h1>400: this dashboard does not answer to that name</h1>
<p>Open it under one of the names it was started with (<code>--allowed-hosts</code>).</p></body></html>
"""


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """The page's CSP: only this server's files, and of inline scripts only Dash's own (by hash).

    What each source is for, as found in Chromium (tests/test_browser_security.py fails on
    any violation):

    - ``script-src 'self' <hashes>``: the hashes are of Dash's inline scripts (the line that
      starts its renderer; clientside callbacks are functions in perfmon.js, not inline).
      Neither Dash nor plotly.js needs ``'unsafe-eval'``;
    - ``style-src 'self' 'unsafe-inline'``: Dash's renderer, its core components and plotly.js
      add ``<style>`` elements with content made at run time, and set ``style`` attributes;
    - ``img-src 'self' data: blob:``: plotly draws a heatmap (the per-core chart) as a
      ``data:`` PNG, and its "Download plot as a PNG" renders through a ``blob:`` image;
    - ``object-src 'none'``, ``base-uri 'none'``, ``form-action 'self'`` (the login form) and
      ``frame-ancestors 'none'`` (nobody frames the dashboard: clickjacking).
    """
    return "; ".join([
        "default-src 'self'", " ".join(["script-src 'self'", *script_hashes]),
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:", "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def security_headers(script_hashes: Sequence[str]) -> list[tuple[bytes, bytes]]:
    """The headers every answer carries: no sniffing, no referrer, no framing, the CSP."""
    return [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", content_security_policy(script_hashes).encode())]


def routes(login: Login) -> dict[tuple[str, str], Route]:
    """What the gate answers itself: the login page, its form, its stylesheet, signing out."""
    async def body_of(scope: Scope, receive: Receive, send: Send,
                      then: Callable[[Scope, bytes, Send], Awaitable[None]]) -> None:
        body = await read_body(scope, receive)
        if body is None:
            await send_json(send, 413, f"request body over {MAX_BODY_BYTES} bytes")
        else:
            await then(scope, body, send)

    async def submit(scope: Scope, receive: Receive, send: Send) -> None:
        await body_of(scope, receive, send, login.submit)

    async def logout(scope: Scope, receive: Receive, send: Send) -> None:
        if not header(scope, b"origin"):  # every browser sends one with a form's POST
            await send_json(send, 403, "sign out with the form on the dashboard's page (a POST from it)")
        else:
            await body_of(scope, receive, send, login.logout)

    return {
        ("GET", LOGIN_PATH): lambda scope, _, send: login.show(scope, send),
        ("HEAD", LOGIN_PATH): lambda scope, _, send: login.show(scope, send),
        ("POST", LOGIN_PATH): submit,
        ("GET", LOGOUT_PATH): lambda scope, _, send: login.show_logout(scope, send),
        ("HEAD", LOGOUT_PATH): lambda scope, _, send: login.show_logout(scope, send),
        ("POST", LOGOUT_PATH): logout,
        ("GET", STYLESHEET_PATH): lambda _, __, send: login.css(send),
        ("HEAD", STYLESHEET_PATH): lambda _, __, send: login.css(send),
    }


def own_origin(scope: Scope) -> bytes:
    """The origin the request was sent to: its scheme and its ``Host``."""
    scheme: str = scope.get("scheme", "http")
    return scheme.encode() + b"://" + header(scope, b"host").lower()


def cross_site(scope: Scope) -> bool:
    """Whether a browser sent the request from another site's page.

    Under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` even from this
    dashboard's own pages (the Fetch standard's "serializing a request origin"), so a
    ``null`` origin is judged by ``Sec-Fetch-Site``, which browsers set and scripts cannot.
    Browsers send that one only to HTTPS and loopback servers; without it a ``null`` origin
    passes (such a page gets no session cookie: it is ``SameSite=Strict``).
    """
    origin = header(scope, b"origin").lower()
    if not origin:
        return False  # not a browser's post (curl, the benchmarks)
    if origin == b"null":
        return header(scope, b"sec-fetch-site") not in (b"", b"same-origin")
    return origin != own_origin(scope)


class Gate:
    """The checks of the module's docstring, for one dashboard's settings."""

    def __init__(self, security: Security, script_hashes: Sequence[str], login: Login | None = None) -> None:
        self.security = security
        self.headers = security_headers(script_hashes)
        self.login = login  # None: no token, nobody signs in
        self.routes = routes(login) if login is not None else {}

    def secured(self, send: Send) -> Send:
        """``send`` adding the security headers to the answer."""
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *self.headers]}
            await send(message)

        return send_secured

    async def admit(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Whether the request goes on to the dashboard; if not, it has been answered."""
        if not self.security.host_allowed(header(scope, b"host").decode("latin-1")):
            await send_html(send, 400, FOREIGN_HOST_PAGE)
            return False
        if scope["method"] not in SAFE_METHODS and cross_site(scope):
            await send_json(send, 403, "a page of another site may not post to this dashboard")
            return False
        if self.login is None:
            return True
        route = self.routes.get((scope["method"], scope["path"]))
        if route is not None:
            await route(scope, receive, send)
            return False
        if self.login.signed_in(scope):
            return True
        if scope["method"] in ("GET", "HEAD") and not scope["path"].startswith(DATA_PREFIXES):
            await redirect(send, login_url(scope))
        else:
            await send_json(send, 401, "not signed in: open the dashboard's page and sign in")
        return False
