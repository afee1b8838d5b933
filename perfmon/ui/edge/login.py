"""Signing in to the dashboard with the token: the login page, its form, signing out.

``GET /login`` shows a form with one password field; ``POST /login`` compares what was
typed with the token in constant time and answers a 303 with the session cookie
(:mod:`perfmon.ui.edge.sessions`), or the page again with a 401 saying so. Five failures from one
address within a minute start a penalty in which its wrong tokens get a 429 with ``Retry-After``
(:mod:`perfmon.ui.edge.throttle`); the right token always signs in. Signing out is ``POST /logout`` (the
header's form, checked by the gate to come from the dashboard's own page), for this browser or, with
``scope=everywhere``, for every browser; ``GET /logout`` only shows those two buttons, so no
link or page of another site signs anyone out. The pages are plain HTML styled by
``/login.css``: no script.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from perfmon.ui.edge.plumbing import Scope, Send, header, redirect, send_answer, send_html
from perfmon.ui.edge.sessions import Sessions, cookie_values, set_cookie
from perfmon.ui.edge.throttle import FailedLogins

log = logging.getLogger(__name__)

STYLESHEET = Path(__file__).parent.parent / "assets" / "login.css"  # Dash leaves it out of its page
LOGIN_PATH, LOGOUT_PATH, STYLESHEET_PATH = "/login", "/logout", "/login.css"
MAX_NEXT_CHARS = 2000
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perfmon: sign in</title>
<link rel="stylesheet" href="/login.css">
</head>
<body>
<main class="login">
<h1>perfmon</h1>
<form method="post" action="/login">
<input type="text" name="username" value="perfmon" autocomplete="username" hidden>
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}">
{problem}<button type="submit">Sign in</button>
</form>
<p class="hint">The token the dashboard was started with (<code>PERFMON_TOKEN</code> or
<code>--token-file</code>).</p>
</main>
</body>
</html>
"""


LOGOUT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>perfmon: sign out</title>
<link rel="stylesheet" href="/login.css">
</head>
<body>
<main class="login">
<h1>perfmon</h1>
<form method="post" action="/logout">
<p class="hint">Sign out of this browser, or end every session of this dashboard: every browser
signed in to it signs in again.</p>
<button type="submit" name="scope" value="this">Sign out</button>
<button type="submit" name="scope" value="everywhere" class="secondary">Sign out everywhere</button>
</form>
<p class="hint"><a href="/">Back to the dashboard</a></p>
</main>
</body>
</html>
"""


def page(next_path: str, problem: str = "") -> str:
    """The login page; ``problem`` says why the last attempt failed."""
    shown = f'<p class="problem" role="alert">{html.escape(problem)}</p>\n' if problem else ""
    return PAGE.format(next=html.escape(next_path, quote=True), problem=shown)


def safe_next(value: str) -> str:
    """Where to go after signing in: a path on this server, else ``/`` (never another site)."""
    if (not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > MAX_NEXT_CHARS
            or not all("!" <= char <= "~" for char in value)):
        return "/"
    path = value.split("?", 1)[0]
    return "/" if path in (LOGIN_PATH, LOGOUT_PATH) else value


def login_url(scope: Scope) -> str:
    """The login page, with the address asked for as where to go next."""
    target = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    target = (target + b"?" + query if query else target).decode("latin-1")
    return LOGIN_PATH if target == "/" else f"{LOGIN_PATH}?{urlencode({'next': target})}"


def form_field(body: bytes, name: str) -> str:
    """One field of a form-encoded body ("" when absent)."""
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
    except ValueError:  # more fields than any form of ours has
        return ""
    return fields.get(name, [""])[0]


def client_address(scope: Scope) -> str:
    """The address the request came from (a proxy's, behind one)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class Login:
    """The login and logout pages of one dashboard, its sessions and its failure counts."""

    def __init__(self, token: str, sessions: Sessions, failures: FailedLogins, secure: bool) -> None:
        self._token = token.encode()
        self.sessions = sessions
        self.failures = failures
        self.secure = secure  # HTTPS: the cookie is sent over HTTPS only
        self.stylesheet = STYLESHEET.read_bytes()

    def signed_in(self, scope: Scope) -> bool:
        """Whether the request carries a session."""
        return self.sessions.valid(cookie_values(header(scope, b"cookie")))

    async def show(self, scope: Scope, send: Send) -> None:
        """The form; someone signed in already goes where they were going."""
        next_path = safe_next(form_field(scope.get("query_string", b""), "next"))
        if self.signed_in(scope):
            await redirect(send, next_path)
            return
        await send_html(send, 200, page(next_path))

    async def submit(self, scope: Scope, body: bytes, send: Send) -> None:
        """Check the token typed: the session cookie, else a 401 (a 429 in the address's penalty)."""
        address, next_path = client_address(scope), safe_next(form_field(body, "next"))
        if not hmac.compare_digest(form_field(body, "token").strip().encode(), self._token):
            wait = self.failures.retry_after(address)
            if wait is not None:
                problem = f"Too many failed attempts: try again in {wait} s."
                await send_html(send, 429, page(next_path, problem), [(b"retry-after", str(wait).encode())])
                return
            self.failures.fail(address, "wrong token")
            await send_html(send, 401, page(next_path, "Wrong token."))
            return
        # Signed in even in a penalty, and the address's failures stay counted: they may be someone
        # else's at the same address (everyone behind a proxy, a shared host), still guessing.
        cookie = set_cookie(self.sessions.issue(), self.sessions.lifetime_seconds, self.secure)
        await redirect(send, next_path, [cookie])

    async def show_logout(self, scope: Scope, send: Send) -> None:
        """The sign-out buttons (a GET changes nothing); someone not signed in goes to the login page."""
        if not self.signed_in(scope):
            await redirect(send, LOGIN_PATH)
            return
        await send_html(send, 200, LOGOUT_PAGE)

    async def logout(self, scope: Scope, body: bytes, send: Send) -> None:
        """End this session, or every one (``scope=everywhere``), and forget the cookie; to the login page."""
        values = cookie_values(header(scope, b"cookie"))
        # In a thread: the change is saved to disk first (about 20 ms here), and other tabs tick meanwhile.
        if form_field(body, "scope") == "everywhere" and self.sessions.valid(values):
            await asyncio.to_thread(self.sessions.end_all)
        else:
            await asyncio.to_thread(self.sessions.revoke, values)
        # Only a request that carries the cookie may clear it: another site's never does (SameSite).
        await redirect(send, LOGIN_PATH, [set_cookie("", 0, self.secure)] if values else [])

    async def css(self, send: Send) -> None:
        """The login page's stylesheet (public: the page is shown to everyone)."""
        await send_answer(send, 200, b"text/css; charset=utf-8", self.stylesheet,
                          [(b"cache-control", b"public, max-age=3600")])
