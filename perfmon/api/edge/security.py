"""Who may ask: the Host allow-list (421), CORS preflights (204), and the Bearer token (401, 429).

The checks of a route run in its error boundary (perfmon.api.edge.errors.json_errors), not in a
middleware, which would cost 5-10 % of throughput by itself; they are built per route once, so
a server without a token checks only the Host header (one cached lookup), and one with a token
adds a header read and a constant-time comparison. In order:

1. ``Host`` must name this server (``--allowed-hosts``), or 421: a page that rebinds its own DNS
   name to 127.0.0.1 reaches a loopback server from the victim's browser, but with its own name
   in ``Host``. No token is needed to be refused, and this comes before authentication.
2. ``OPTIONS`` from an origin of ``--cors-origin`` is a preflight: 204 with what it may send.
   Browsers send preflights without credentials, so this comes before authentication.
3. With a token: ``Authorization: Bearer <token>`` is served, always, even from an address in a
   penalty (wrong tokens from one local process must not cut the dashboard off its API); anything
   else is a 401, or a 429 without a log line from an address in a penalty (the failure throttle
   of perfmon.core.edge). ``/api/health`` without any Authorization header answers its status
   only, for load balancers.
"""

from __future__ import annotations

import functools
import hmac
import logging
import time
from collections.abc import Callable

from aiohttp import hdrs, web

from perfmon.api.edge.cors import preflight_response
from perfmon.api.edge.errors import Check, error_response
from perfmon.core.edge import FailureThrottle, LogLimiter
from perfmon.settings import Security
from perfmon.settings.token import MIN_TOKEN_CHARS

log = logging.getLogger(__name__)

HOST_CACHE_SIZE = 256  # distinct Host headers whose verdict is remembered (a flood of names evicts)
HOST_LOG_WINDOW_SECONDS = 60.0
MAX_SHOWN_HOST_CHARS = 100
CHALLENGE: dict[str, str] = {hdrs.WWW_AUTHENTICATE: 'Bearer realm="perfmon"'}


class Guard:
    """The checks of one server's requests, from its Security settings."""

    def __init__(self, security: Security, clock: Callable[[], float] = time.monotonic,
                 failures: FailureThrottle | None = None) -> None:
        if security.token == "":
            raise ValueError(f"an empty token would let anyone in (the settings require {MIN_TOKEN_CHARS} "
                             "characters)")
        self.security = security
        self.token_required = security.token is not None
        self._token = (security.token or "").encode("utf-8", "surrogatepass")
        self._expected = b"Bearer " + self._token  # the usual spelling, compared whole first
        self._host_allowed = functools.lru_cache(maxsize=HOST_CACHE_SIZE)(security.host_allowed)
        self.failures = failures if failures is not None else FailureThrottle(log, "authentication", clock)
        self._host_log = LogLimiter(HOST_LOG_WINDOW_SECONDS, clock)

    def check(self, *, anonymous: bool = False, preflight: bool = False) -> Check:
        """The checks of one route: ``anonymous`` lets requests without a token through (the handler
        answers them less), ``preflight`` answers CORS preflights (the 405 route of an endpoint)."""
        host_allowed, expected = self._host_allowed, self._expected
        origins = self.security.cors_origins if preflight else ()
        token_required = self.token_required
        if not token_required and not origins:
            def host_only(request: web.Request) -> web.StreamResponse | None:
                host = request.headers.get(hdrs.HOST)
                return None if host_allowed(host) else self.misdirected(request, host)
            return host_only

        def check(request: web.Request) -> web.StreamResponse | None:
            headers = request.headers
            host = headers.get(hdrs.HOST)
            if not host_allowed(host):
                return self.misdirected(request, host)
            if origins and request.method == hdrs.METH_OPTIONS and headers.get(hdrs.ORIGIN) in origins:
                return preflight_response()
            if not token_required:
                return None
            header = headers.get(hdrs.AUTHORIZATION)
            # compare_digest takes as long wherever the bytes differ (only the lengths show):
            # the answer's timing tells a guesser nothing about how close it came.
            if header is not None and hmac.compare_digest(encode(header), expected):
                return None  # the usual case, in one comparison; the rest is authenticate()'s
            return self.authenticate(request, header, anonymous)

        return check

    def authenticate(self, request: web.Request, header: str | None,
                     anonymous: bool = False) -> web.StreamResponse | None:
        """None for the right Bearer token in the Authorization ``header`` (or no header on an
        ``anonymous`` route), whatever came before from the address; else 401, or 429 in a penalty."""
        if header is None and anonymous:
            return None
        if header is None:
            reason = "no token"
        else:
            scheme, _, credentials = header.strip().partition(" ")
            if scheme.lower() != "bearer":
                reason = "not a Bearer token"
            elif hmac.compare_digest(encode(credentials.strip()), self._token):
                return None
            else:
                reason = "wrong token"
        failures, client = self.failures, self.client(request)
        # An address in a penalty is answered without a log line: a guesser costs a lookup. The
        # right token was served above all the same: 128 bits are not guessed, so the penalty
        # protects the log and the CPU, not the token, and must not lock its owner out.
        if (wait := failures.retry_after(client)) is not None:
            return error_response(429, f"too many failed authentications from this address: retry in "
                                       f"{wait} s, or send the right token", {hdrs.RETRY_AFTER: str(wait)})
        failures.fail(client, reason, guess=header is not None)
        return unauthorized(reason)

    def client(self, request: web.BaseRequest) -> str:
        """The client's address: the peer's, or behind a ``--trusted-proxies`` proxy the one it reports."""
        proxies = self.security.trusted_proxies
        if not proxies:
            return request.remote or "unknown"
        return proxies.client(request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR, ()))

    def anonymous(self, request: web.Request) -> bool:
        """Whether a request that passed ``check(anonymous=True)`` did so without a token."""
        return self.token_required and hdrs.AUTHORIZATION not in request.headers

    def misdirected(self, request: web.BaseRequest, host: str | None) -> web.Response:
        """421 for a Host header that names another server (logged once a minute: a proxy set up wrong
        sends them all)."""
        shown = "a request without Host" if host is None else f"Host {host[:MAX_SHOWN_HOST_CHARS]}"
        self._host_log.warning(log, "refused a request from %s for %s: not one of this server's names "
                                    "(--allowed-hosts)", self.client(request),
                               "no Host" if host is None else repr(host[:MAX_SHOWN_HOST_CHARS]))
        return error_response(421, f"misdirected request: {shown} is not one of this server's names; "
                                   "add it with --allowed-hosts")


def encode(header: str) -> bytes:
    """A header's bytes as they came (aiohttp decodes them as UTF-8 with surrogate escapes)."""
    return header.encode("utf-8", "surrogatepass")


def unauthorized(reason: str) -> web.Response:
    """401 with the Bearer challenge; the message says how to send the token."""
    what = "this server needs a token" if reason == "no token" else f"{reason}: use the server's token"
    return error_response(401, f"{what}; send it as 'Authorization: Bearer <token>' (the token is the "
                               "server's PERFMON_TOKEN or the contents of its --token-file)", CHALLENGE)


GUARD = web.AppKey("guard", Guard)
