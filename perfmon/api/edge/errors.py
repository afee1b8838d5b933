"""JSON errors everywhere: ``{"error": {"status": N, "message": "..."}}``.

The boundary is per handler (a decorator) plus two routes, not a middleware: any
aiohttp middleware also brings its internal ``_fix_request_current_app`` layer, and
the two layers cost about 5-10 % of the throughput of ``/api/performance``
(measured with py-spy and wrk; see BENCHMARKS.md). The same boundary runs each route's
checks (perfmon.api.edge.security: Host, token) before its handler, for the same reason.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import hdrs, web

from perfmon.api.edge.headers import secured

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Check = Callable[[web.Request], web.StreamResponse | None]  # a refusal, or None to go on


class ApiError(Exception):
    """An error answered to the client as JSON with the given status."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """The JSON body every 4xx/5xx carries."""
    body = json.dumps({"error": {"status": status, "message": message}}).encode()
    return web.Response(body=body, status=status, content_type="application/json",
                        headers=secured(headers))


def json_errors(handler: Handler, check: Check | None = None) -> Handler:
    """The error boundary of one handler: ``check`` may refuse first; errors become JSON."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        try:
            if check is not None and (refusal := check(request)) is not None:
                return refusal
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except Exception:  # the client gets JSON, the log gets the traceback
            log.exception("unhandled error on %s %s", request.method, request.path_qs)
            return error_response(500, "internal server error: the server log has the details")

    return guarded


async def not_found(request: web.Request) -> web.Response:
    """Any path that is not an endpoint."""
    return error_response(404, f"no such endpoint: {request.path} (GET / lists the endpoints)")


def method_not_allowed(allowed: Iterable[str]) -> Handler:
    """A handler answering 405 with ``Allow`` for every method an endpoint does not take."""
    allow = ", ".join(sorted(allowed))

    async def refuse(request: web.Request) -> web.Response:
        return error_response(
            405, f"method {request.method} is not allowed on {request.path}; allowed: {allow}",
            {hdrs.ALLOW: allow},
        )

    return refuse


def expectation(check: Check | None) -> Callable[[web.Request], Awaitable[web.StreamResponse | None]]:
    """A route's handler of ``Expect``: its checks first (421, 401, 429: a final answer is sent
    instead of inviting a body), then ``100 Continue``, or a JSON 417 for any other expectation."""

    async def expect(request: web.Request) -> web.StreamResponse | None:
        if check is not None and (refusal := check(request)) is not None:
            return refusal
        expected = request.headers.get(hdrs.EXPECT, "")
        if request.version < (1, 1):  # HTTP/1.0 knows no Expect: ignored, as RFC 9110 says
            return None
        if expected.strip().lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # as aiohttp's own handler: the answer has not started
            return None
        return error_response(417, f"expectation {expected[:100]!r} is not supported; only "
                                   "'Expect: 100-continue' is")

    return expect


def add_endpoint(router: web.UrlDispatcher, path: str, handler: Handler,
                 check: Check | None = None, check_others: Check | None = None,
                 writes: Mapping[str, Handler] | None = None) -> None:
    """Route GET (and HEAD) to ``handler``, and ``writes`` (method: handler, as POST), behind the error
    boundary; other methods get 405.

    ``check`` runs before ``handler``, ``check_others`` before the 405 (which may answer a CORS preflight).
    """
    router.add_get(path, json_errors(handler, check), expect_handler=expectation(check))
    for method, write in (writes or {}).items():
        router.add_route(method, path, json_errors(write, check), expect_handler=expectation(check))
    allowed = (hdrs.METH_GET, hdrs.METH_HEAD, *(writes or {}))
    router.add_route("*", path, json_errors(method_not_allowed(allowed), check_others),
                     expect_handler=expectation(check_others))


def add_fallback(router: web.UrlDispatcher, check: Check | None = None) -> None:
    """JSON 404 for every other path (after ``check``); must be added after all endpoints."""
    router.add_route("*", "/{path:.*}", json_errors(not_found, check), expect_handler=expectation(check))
