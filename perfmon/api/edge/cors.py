"""CORS for the origins of ``--cors-origin``: a browser page served there may read the API.

None by default (no header at all). An allowed origin is echoed in ``Access-Control-Allow-Origin``,
never ``*``, and without ``Access-Control-Allow-Credentials``: the API takes a Bearer token, which
the page sends itself, not cookies. Every answer then says ``Vary: Origin`` (one with the header
and one without must not be cached for each other). The headers are added as each response is
prepared (``on_response_prepare``), a signal the app only has when origins are configured, so a
server without them pays nothing. Preflights are answered by perfmon.api.edge.security before the token
is checked (browsers send them without it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from perfmon.api.edge.headers import secured

PREFLIGHT_HEADERS: dict[str, str] = {
    hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, HEAD, OPTIONS",
    hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Authorization, If-None-Match",
    hdrs.ACCESS_CONTROL_MAX_AGE: "600",
}
EXPOSED = "ETag, Retry-After"  # what a page's script may read of an answer beyond the basic headers

Hook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def preflight_response() -> web.Response:
    """204 to a preflight from an allowed origin (its Allow-Origin is added as every answer's)."""
    return web.Response(status=204, headers=secured(PREFLIGHT_HEADERS))


def vary_origin(vary: str | None) -> str:
    """A Vary header's value with Origin added."""
    return f"{vary}, Origin" if vary else "Origin"


def cors_headers(origins: tuple[str, ...]) -> Hook:
    """An ``on_response_prepare`` receiver adding the CORS headers of ``origins`` to every answer."""

    async def add_cors(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers[hdrs.VARY] = vary_origin(headers.get(hdrs.VARY))
        origin = request.headers.get(hdrs.ORIGIN)
        if origin in origins:
            headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            if request.method != hdrs.METH_OPTIONS:
                headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED

    return add_cors
