"""GET, POST and DELETE /api/silences: the silences in force, one set, one lifted.

A silence keeps the alerts whose labels (and ``host``) all match from every channel until it
ends; the alerts still fire and show. Those of the rules file are listed too, and cannot be
lifted here (409: edit the file). Writes take JSON only (415 otherwise) and refuse a page of
another origin (403): a browser cannot send either without the CORS preflight, which the API
grants to no write, so a web page cannot silence an alert behind its user's back.
"""

from __future__ import annotations

import json
import re
import time

from aiohttp import hdrs, web

from perfmon.alerts.silences import silence_from_json, silence_json
from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.responses import NO_CACHE, json_response
from perfmon.api.edge.security import GUARD
from perfmon.api.endpoints.state import SILENCES

MAX_BODY_BYTES = 16 * 1024
TOO_BIG = f"the body is over {MAX_BODY_BYTES // 1024} KiB: a silence is a few lines of JSON"
ID_PATTERN = "^(api|file)-[0-9a-f]{12}$"  # as perfmon.alerts.silences makes them


async def silences(request: web.Request) -> web.StreamResponse:
    """GET /api/silences: the silences in force, the rules file's and those set through the API."""
    listed = [silence_json(s) for s in request.app[SILENCES].all()]
    return json_response(request, {"silences": listed}, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def create(request: web.Request) -> web.StreamResponse:
    """POST /api/silences: set a silence from a JSON body (match, until, and from and comment)."""
    writable(request)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, TOO_BIG)
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, TOO_BIG)
    try:
        silence = silence_from_json(json.loads(raw), time.time())
        request.app[SILENCES].add(silence)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(409 if "silences are set already" in str(exc) else 400, f"body: {exc}") from None
    return json_response(request, silence_json(silence), status=201, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def lift(request: web.Request) -> web.StreamResponse:
    """DELETE /api/silences?id=ID: lift a silence set through the API."""
    writable(request, body=False)
    wanted = request.query.get("id")
    if not wanted:
        raise ApiError(400, "parameter 'id' is missing: the silence to lift (GET /api/silences lists them)")
    if not re.fullmatch(ID_PATTERN, wanted):
        raise ApiError(400, f"parameter 'id' must be a silence's id, such as api-0123456789ab, not "
                            f"{wanted[:40]!r}")
    book = request.app[SILENCES]
    if any(s.id == wanted for s in book.from_file):
        raise ApiError(409, f"silence {wanted} is in the rules file: lift it there")
    try:
        book.lift(wanted)
    except KeyError:
        raise ApiError(404, f"no silence {wanted!r} is set (it may have ended)") from None
    return web.Response(status=204, headers={hdrs.CACHE_CONTROL: NO_CACHE})


def writable(request: web.Request, body: bool = True) -> None:
    """403 for a page of another origin, 415 for a body that is not JSON."""
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and origin not in request.app[GUARD].security.cors_origins:
        raise ApiError(403, f"a page of {origin[:100]} may not change the silences")
    if body and request.content_type != "application/json":
        raise ApiError(415, f"the body must be application/json, not {request.content_type or 'none'}")
