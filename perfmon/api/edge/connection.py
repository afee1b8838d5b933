"""The API's HTTP connections: what aiohttp answers before any route runs, answered as JSON.

aiohttp answers a request its parser rejects (a 100 KB URL, 1,000 headers, ``BREW``, no ``Host``,
TLS bytes on the plain port) itself, in ``RequestHandler.handle_error``: a ``text/plain`` 400, and
an ERROR with a traceback in the ``aiohttp.server`` log for each one. aiohttp 3.14 has no hook for
that answer (aio-libs/aiohttp#3287 asks for one), and ``web.Server`` builds its ``RequestHandler``
without a parameter for the class, so the API's runner makes its connections from a subclass:

- a malformed request gets our JSON 400 and one WARNING line per minute (the rest are counted);
  so does a request body that cannot be decoded, found while aiohttp drains it after the answer
  (aiohttp would log "Unhandled exception" with a traceback);
- ``OPTIONS *`` and ``CONNECT host:port``, whose targets no route can match (aiohttp answers a
  text/plain 404), get a JSON 405.

Each connection also has a deadline for its request head (``--header-timeout``, 10 s): from when
it opens, or from the first byte of a request on a kept-alive one, to the end of the head. aiohttp's
own timer (``keepalive_timeout``) is the idle time after an answer; bytes that never finish a head
do not reset either, so a slowloris connection is closed like an idle one. Connections are counted
in a ``Connections`` table that sheds the longest-idle ones near the open-files limit.

Normal requests take the same path as before, plus one call and one type check (about 45 ns of the
about 100 us a request costs) when the response is sent, and one method call per chunk received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from perfmon.api.edge.errors import error_response
from perfmon.api.edge.limits import LogLimiter
from perfmon.core.connections import Connections, OpenConnections

log = logging.getLogger(__name__)

MALFORMED_LOG_WINDOW_SECONDS = 60.0
MAX_REASON_CHARS = 160  # aiohttp's reasons can quote the offending bytes
ALLOWED = "GET, HEAD"
HEADER_TIMEOUT_SECONDS = 10.0


class ApiConnection(web.RequestHandler):
    """aiohttp's protocol for one connection, answering the errors it raises itself as JSON."""

    __slots__ = ("_connections", "_head_timer", "_header_timeout", "_malformed_log")

    def __init__(self, manager: web.Server, *, malformed_log: LogLimiter, header_timeout: float,
                 connections: Connections, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._malformed_log = malformed_log
        self._header_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._connections = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the head's deadline and count the connection (which may shed idle ones)."""
        super().connection_made(transport)
        self._head_timer = self._loop.call_later(self._header_timeout, self._head_timed_out)
        self._connections.opened(self)

    def data_received(self, data: bytes) -> None:
        """Parse as aiohttp does; a finished head ends its deadline, a new head's first bytes start one."""
        super().data_received(data)
        if self._messages:  # a whole request head arrived
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            self._connections.active(self)
        elif self._head_timer is None and data and self.is_idle():
            self._head_timer = self._loop.call_later(self._header_timeout, self._head_timed_out)

    def connection_lost(self, exc: BaseException | None) -> None:
        """aiohttp's clean-up, and the connection leaves the table."""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._connections.closed(self)
        super().connection_lost(exc)

    def is_idle(self) -> bool:
        """No request in progress: waiting for the next head (aiohttp's own test for keep-alive)."""
        waiter = self._waiter
        if waiter is None:  # handling a request, or just opened (before its task first ran)
            return self._request_count == 0 and not self._messages
        return not waiter.done()

    def shed(self) -> None:
        """Close the connection now (near the open-files limit, while it is idle)."""
        self.force_close()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.is_idle():
            log.debug("closing a connection from %s: no whole request head within %g s",
                      self.client_host(), self._header_timeout)
            self.force_close()

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """A JSON error for a request the parser rejected, or for a failure aiohttp caught (5xx)."""
        if isinstance(exc, HttpProcessingError):
            what = describe(exc)
            self._malformed_log.warning(log, "rejected a malformed HTTP request from %s: %s",
                                        request.remote, what)
            reason = f"malformed HTTP request: {what}"
        else:
            # Not the client's fault (a bug of ours, or a timeout): aiohttp's ERROR with the
            # traceback stays, and so does its check that nothing was sent yet; its body does not.
            super().handle_error(request, status, exc, message)
            reason = "internal server error: the server log has the details" if status == 500 \
                else HTTPStatus(status).phrase.lower()
        response = error_response(status, reason)
        response.force_close()  # as aiohttp does: after a parse error the stream is out of step
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """aiohttp's ERROR with a traceback, but for a request body the client got wrong."""
        exc = kwargs.get("exc_info")
        if isinstance(exc, web.RequestPayloadError):  # raised where aiohttp reads the body's rest
            cause = exc.__cause__
            what = describe(cause) if isinstance(cause, HttpProcessingError) else first_line(str(exc))
            self._malformed_log.warning(log, "rejected a malformed HTTP request body from %s: %s",
                                        self.client_host(), what)
        else:
            super().log_exception(*args, **kwargs)

    def client_host(self) -> str:
        """The client's address, as ``request.remote`` gives it."""
        peername = self.transport.get_extra_info("peername") if self.transport is not None else None
        return str(peername[0]) if isinstance(peername, tuple) else str(peername)

    def finish_response(self, request: web.BaseRequest, resp: web.StreamResponse,
                        start_time: float | None) -> Coroutine[Any, Any, tuple[web.StreamResponse, bool]]:
        """Send ``resp``; the router's bare 404 for a target that is not a path becomes a JSON 405."""
        # Every path has a JSON 404 route, so the router's own 404 means an asterisk-form
        # (OPTIONS *) or authority-form (CONNECT host:port) target, which this API never serves.
        if type(resp) is web.HTTPNotFound and not request.path.startswith("/"):
            target = request.raw_path[:MAX_REASON_CHARS]
            resp = error_response(
                405, f"method {request.method} is not allowed on {target}; allowed: {ALLOWED} "
                     "(this server is not a proxy; GET / lists the endpoints)", {hdrs.ALLOW: ALLOWED})
            resp.force_close()  # after CONNECT, aiohttp takes the rest of the stream for a tunnel
        # This runs for every response: a plain function handing back aiohttp's own coroutine adds
        # about 45 ns to a request (an ``async def`` calling super() adds about 270 ns; measured).
        return SEND_RESPONSE(self, request, resp, start_time)


SEND_RESPONSE = web.RequestHandler.finish_response


def describe(exc: HttpProcessingError) -> str:
    """aiohttp's reason in one short line (its messages quote the bytes over several lines)."""
    if isinstance(exc, LineTooLong):
        return f"a request line or header is longer than {exc.args[1]} bytes"
    return first_line(exc.message) or type(exc).__name__


def first_line(message: str) -> str:
    """The reason before aiohttp's quote of the bytes (which follows a blank line), in one line."""
    head = message.split("\n\n", 1)[0]
    reason = ": ".join(line.strip().rstrip(":.") for line in head.splitlines() if line.strip())
    return reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS - 3] + "..."


class ApiServer(web.Server):
    """aiohttp's connection factory, making ApiConnections that share one malformed-request log."""

    def __init__(self, *args: Any, malformed_log: LogLimiter, header_timeout: float,
                 connections: Connections, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.malformed_log = malformed_log
        self.header_timeout = header_timeout
        self.table = connections  # web.Server.connections is aiohttp's own list

    def __call__(self) -> web.RequestHandler:
        # What web.Server.__call__ does, with our class; its fallback for keyword arguments that
        # RequestHandler does not take is left out: ours are the runner's few, all known.
        return ApiConnection(self, loop=self._loop, malformed_log=self.malformed_log,
                             header_timeout=self.header_timeout, connections=self.table,
                             **self._kwargs)


class ApiRunner(web.AppRunner):
    """An AppRunner serving through ApiServer; otherwise the same (startup, cleanup, shutdown)."""

    __slots__ = ("_header_timeout", "_malformed_log", "connections")

    def __init__(self, app: web.Application, *, malformed_log: LogLimiter | None = None,
                 header_timeout: float = HEADER_TIMEOUT_SECONDS, connections: Connections | None = None,
                 **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        if malformed_log is None:
            malformed_log = LogLimiter(MALFORMED_LOG_WINDOW_SECONDS)
        self._malformed_log = malformed_log
        self._header_timeout = header_timeout
        self.connections = connections if connections is not None else Connections(OpenConnections(1 << 30))

    async def _make_server(self) -> web.Server:
        # AppRunner's own server factory (it starts the app, and adds the app's handler arguments);
        # BaseRunner declares this method for its subclasses to build the server.
        plain = await super()._make_server()
        return ApiServer(plain.request_handler, request_factory=plain.request_factory,
                         handler_cancellation=plain.handler_cancellation,
                         malformed_log=self._malformed_log, header_timeout=self._header_timeout,
                         connections=self.connections, **plain._kwargs)
