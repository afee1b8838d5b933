"""GET /api/processes: the last process scan, sorted and cut, with its own ETag."""

from __future__ import annotations

from aiohttp import hdrs, web

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.headers import secured
from perfmon.api.edge.params import Choice, Number, Param
from perfmon.api.edge.responses import NO_CACHE, etag_matches, json_response
from perfmon.api.endpoints.longpoll import starting_error
from perfmon.api.endpoints.state import HUB
from perfmon.core import bounds
from perfmon.sampling.collectors import top_by

MAX_PROCESS_LIMIT = bounds.PROCESS_LIMIT_MAX
DEFAULT_PROCESS_LIMIT = 10
PROCESS_SORT_FIELDS = {"cpu": "cpu_percent", "memory": "memory_percent"}
PROCESS_SORT = Choice("sort", "what to sort by, highest first (unknown values last): cpu_percent or "
                              "memory_percent", tuple(PROCESS_SORT_FIELDS), "cpu")
PROCESS_LIMIT = Number("limit", "the most processes to answer", low=1, high=MAX_PROCESS_LIMIT, integer=True,
                       default=DEFAULT_PROCESS_LIMIT)
PROCESS_PARAMETERS: tuple[Param, ...] = (PROCESS_SORT, PROCESS_LIMIT)


async def processes(request: web.Request) -> web.StreamResponse:
    """GET /api/processes: the latest process scan, sorted descending."""
    hub = request.app[HUB]
    sort = PROCESS_SORT.read(request.query)
    limit = PROCESS_LIMIT.read(request.query)
    table = hub.processes
    if table is None and not hub.collectors.get("processes", {}).get("enabled", True):
        raise ApiError(404, "no process table: the processes collector is off (--collectors)")
    if table is None:
        raise starting_error()
    etag = f"{hub.instance_id}-p{table.scan_seq}"
    headers = {"ETag": f'"{etag}"', hdrs.CACHE_CONTROL: NO_CACHE}
    if etag_matches(request, etag, f"{etag}-gzip"):  # json_response marks a gzip answer's tag
        return web.Response(status=304, headers=secured(headers))
    count = DEFAULT_PROCESS_LIMIT if limit is None else int(limit)
    rows = top_by(table.processes, PROCESS_SORT_FIELDS[sort], count)
    payload = {"sampled_at": table.sampled_at, "count": table.count, "sort": sort, "error": table.error,
               "processes": rows}
    return json_response(request, payload, headers=headers)
