"""GET / and /api: what this server is and which endpoints it has."""

from __future__ import annotations

from aiohttp import web

from perfmon import __version__
from perfmon.api.edge.responses import json_response

ENDPOINTS = {
    "/api/performance": "latest sample; ETag/If-None-Match -> 304; ?wait=S long-polls",
    "/api/history": "recent samples by cursor: ?since=SEQ&limit=N (&wait=S); a time range: "
                    "?start=T1&end=T2&points=N; &format=csv for a download",
    "/api/processes": "process table: ?sort=cpu|memory&limit=N",
    "/api/health": "liveness and freshness of the sampler",
    "/api/openapi.json": "this API described in OpenAPI 3.1 (generated from the routes and the schema)",
    "/metrics": "the latest sample for Prometheus (text format, or OpenMetrics when asked for)",
}


async def index(request: web.Request) -> web.Response:
    """GET /: what this server is and which endpoints it has."""
    return json_response(request, {"name": "perfmon", "version": __version__, "endpoints": ENDPOINTS})
