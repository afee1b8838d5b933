"""JSON errors everywhere: ``{"error": {"status": N, "message": "..."}}``."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import hdrs, web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def describe_http_exception(request: web.Request, exc: web.HTTPException) -> tuple[str, dict[str, str]]:
    """A helpful message (and headers to keep) for aiohttp's own routing errors."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return (f"method {request.method} is not allowed on {request.path}; allowed: {allowed}",
                {hdrs.ALLOW: allowed})
    if isinstance(exc, web.HTTPNotFound):
        return f"no such endpoint: {request.path} (GET / lists the endpoints)", {}
    return exc.reason, {}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into the JSON error shape; log unexpected ones with a traceback."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message, headers = describe_http_exception(request, exc)
        return error_response(exc.status, message, headers)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        return error_response(500, "internal server error: the server log has the details")
