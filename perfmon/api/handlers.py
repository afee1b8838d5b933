"""Request handlers: validate parameters, read what the sampler published, never sample.

Handlers read the hub (latest snapshot, process table, long-poll waiters) and the
history store from the application; they never see the sampler.
"""

from __future__ import annotations

import time

from aiohttp import hdrs, web

from perfmon import __version__
from perfmon.api.headers import secured
from perfmon.api.health_answer import HEALTH, store_json
from perfmon.api.history import history as history_answer
from perfmon.api.http import (
    NO_CACHE,
    etag_matches,
    json_response,
    not_modified,
    sends_gzip,
    snapshot_response,
)
from perfmon.api.longpoll import starting_error, wait_or_shutdown, wait_seconds
from perfmon.api.params import Choice, Number, Param
from perfmon.api.prebuilt import wait_parked
from perfmon.api.security import GUARD
from perfmon.sampling.collectors import top_by
from perfmon.sampling.hub import Hub
from perfmon.store.base import HistoryStore

HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", HistoryStore)

MAX_PROCESS_LIMIT = 100
DEFAULT_PROCESS_LIMIT = 10
PROCESS_SORT_FIELDS = {"cpu": "cpu_percent", "memory": "memory_percent"}
PROCESS_SORT = Choice("sort", "what to sort by, highest first (unknown values last): cpu_percent or "
                              "memory_percent", tuple(PROCESS_SORT_FIELDS), "cpu")
PROCESS_LIMIT = Number("limit", "the most processes to answer", low=1, high=MAX_PROCESS_LIMIT, integer=True,
                       default=DEFAULT_PROCESS_LIMIT)
PROCESS_PARAMETERS: tuple[Param, ...] = (PROCESS_SORT, PROCESS_LIMIT)
STALE_AFTER_INTERVALS = 3
ENDPOINTS = {
    "/api/performance": "latest sample; ETag/If-None-Match -> 304; ?wait=S long-polls",
    "/api/history": "recent samples by cursor: ?since=SEQ&limit=N (&wait=S); a time range: "
                    "?start=T1&end=T2&points=N; &format=csv for a download",
    "/api/processes": "process table: ?sort=cpu|memory&limit=N",
    "/api/health": "liveness and freshness of the sampler",
    "/api/openapi.json": "this API described in OpenAPI 3.1 (generated from the routes and the schema)",
    "/metrics": "the latest sample for Prometheus (text format, or OpenMetrics when asked for)",
}


async def performance(request: web.Request) -> web.StreamResponse:
    """GET /api/performance: the latest snapshot, 304 if unchanged, long-poll with ?wait=S."""
    hub = request.app[HUB]
    wait = wait_seconds(request) if request.query_string else None
    snapshot = hub.latest
    if snapshot is None and wait:
        snapshot = await wait_or_shutdown(hub, None, wait)
    if snapshot is None:
        raise starting_error()
    if etag_matches(request, snapshot.etag, snapshot.etag_gzip):
        if wait:
            answer = await wait_parked(request, hub, snapshot, wait)
            if answer is not None:
                return answer
        # a 304 names the tag of what a 200 would send this client now (RFC 9110 15.4.5)
        return not_modified(snapshot.etag_gzip if sends_gzip(request, snapshot) else snapshot.etag)
    return snapshot_response(request, snapshot)


async def history(request: web.Request) -> web.Response:
    """GET /api/history: the live tail by cursor, or a time range; JSON columns or CSV."""
    return await history_answer(request, request.app[HUB], request.app[STORE])


async def processes(request: web.Request) -> web.StreamResponse:
    """GET /api/processes: the latest process scan, sorted descending."""
    hub = request.app[HUB]
    sort = PROCESS_SORT.read(request.query)
    limit = PROCESS_LIMIT.read(request.query)
    table = hub.processes
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


def freshness(hub: Hub, now: float) -> tuple[str, float | None]:
    """``starting``, ``stale`` (older than 3 intervals) or ``ok``, and the last sample's age."""
    latest = hub.latest
    if latest is None:
        return "starting", None
    age = round(max(0.0, now - latest.timestamp), 3)
    return ("stale" if age > STALE_AFTER_INTERVALS * hub.interval_seconds else "ok"), age


async def health(request: web.Request) -> web.Response:
    """GET /api/health: 200 while samples are fresh, 503 while starting or stale.

    Without a token where one is required, the status alone (with the same code): enough for a
    load balancer, nothing about the host. The bytes are joined from parts made once
    (perfmon.api.health_answer): load balancers poll this.
    """
    app = request.app
    hub, store, answers = app[HUB], app[STORE], app[HEALTH]
    now = time.time()
    status, age = freshness(hub, now)
    code = 200 if status == "ok" else 503
    if app[GUARD].anonymous(request):
        return answers.anonymous(request, status, code)
    latest = hub.latest
    numbers = (round(now - hub.started_at, 3), age, None if latest is None else latest.seq, len(store),
               hub.waiters)
    return answers.answer(request, code, status, numbers, store.status())


def store_status(store: HistoryStore) -> dict[str, object]:
    """Where history is kept, how big it is, since when, whether writes work, and its last salvage."""
    return store_json(store.status())


async def index(request: web.Request) -> web.Response:
    """GET /: what this server is and which endpoints it has."""
    return json_response(request, {"name": "perfmon", "version": __version__, "endpoints": ENDPOINTS})
