"""Request handlers: validate parameters, read what the sampler published, never sample.

Handlers read the hub (latest snapshot, process table, long-poll waiters) and the
history store from the application; they never see the sampler.
"""

from __future__ import annotations

import time

from aiohttp import hdrs, web

from perfmon import __version__
from perfmon.api.errors import ApiError
from perfmon.api.http import (
    NO_CACHE,
    etag_matches,
    json_response,
    not_modified,
    query_choice,
    query_number,
    snapshot_response,
)
from perfmon.sampling.collectors import top_by
from perfmon.sampling.hub import Hub, ShuttingDown
from perfmon.sampling.snapshot import Snapshot
from perfmon.store.base import HistoryStore

HUB = web.AppKey("hub", Hub)
STORE = web.AppKey("store", HistoryStore)

MAX_WAIT_SECONDS = 60.0
MAX_HISTORY_LIMIT = 3600
MAX_PROCESS_LIMIT = 100
PROCESS_SORT_FIELDS = {"cpu": "cpu_percent", "memory": "memory_percent"}
STALE_AFTER_INTERVALS = 3
ENDPOINTS = {
    "/api/performance": "latest sample; ETag/If-None-Match -> 304; ?wait=S long-polls",
    "/api/history": "recent samples by cursor: ?since=SEQ&limit=N (&wait=S)",
    "/api/processes": "process table: ?sort=cpu|memory&limit=N",
    "/api/health": "liveness and freshness of the sampler",
}


def wait_seconds(request: web.Request) -> float | None:
    """The long-poll budget asked for with ?wait=S (0 < S <= 60)."""
    return query_number(request.query, "wait", low=0, high=MAX_WAIT_SECONDS, low_open=True)


async def wait_or_shutdown(hub: Hub, after_seq: int | None, timeout: float) -> Snapshot | None:
    """Long-poll for a newer snapshot; 503 if the server stops meanwhile."""
    try:
        return await hub.wait_for_sample(after_seq, timeout)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down", {"Retry-After": "1"}) from None


def starting_error() -> ApiError:
    """503 for a request that arrives before the first sample."""
    return ApiError(503, "no sample yet: the sampler is starting, retry in a second",
                    {"Retry-After": "1"})


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
            newer = await wait_or_shutdown(hub, snapshot.seq, wait)
            if newer is not None:
                return snapshot_response(request, newer)
        return not_modified(snapshot.etag)
    return snapshot_response(request, snapshot)


async def history(request: web.Request) -> web.Response:
    """GET /api/history: columnar samples after a cursor (``since``), oldest first."""
    hub, store = request.app[HUB], request.app[STORE]
    query = request.query
    since = query_number(query, "since", low=0, high=2**63 - 1, integer=True)
    limit = query_number(query, "limit", low=1, high=MAX_HISTORY_LIMIT, integer=True)
    wait = wait_seconds(request)
    if wait and since is not None and (hub.latest is None or hub.latest.seq == since):
        # Only a cursor at the head waits; one from the future belongs to another instance
        # and is answered at once, so the client sees the new instance_id and resets.
        await wait_or_shutdown(hub, int(since), wait)
    part = store.read(None if since is None else int(since),
                      MAX_HISTORY_LIMIT if limit is None else int(limit))
    payload = {
        "instance_id": hub.instance_id,
        "latest_seq": store.latest_seq,
        "first_seq": store.first_seq,
        "interval_seconds": hub.interval_seconds,
        "truncated": part.truncated,
        "series": part.columns(),
    }
    return json_response(request, payload, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def processes(request: web.Request) -> web.StreamResponse:
    """GET /api/processes: the latest process scan, sorted descending."""
    hub = request.app[HUB]
    sort = query_choice(request.query, "sort", PROCESS_SORT_FIELDS, "cpu")
    limit = query_number(request.query, "limit", low=1, high=MAX_PROCESS_LIMIT, integer=True)
    table = hub.processes
    if table is None:
        raise starting_error()
    etag = f"{hub.instance_id}-p{table.scan_seq}"
    headers = {"ETag": f'"{etag}"', hdrs.CACHE_CONTROL: NO_CACHE}
    if etag_matches(request, etag):
        return web.Response(status=304, headers=headers)
    rows = top_by(table.processes, PROCESS_SORT_FIELDS[sort], 10 if limit is None else int(limit))
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
    """GET /api/health: 200 while samples are fresh, 503 while starting or stale."""
    hub, store = request.app[HUB], request.app[STORE]
    now = time.time()
    status, age = freshness(hub, now)
    payload = {
        "status": status,
        "version": __version__,
        "instance_id": hub.instance_id,
        "uptime_seconds": round(now - hub.started_at, 3),
        "last_sample_age_seconds": age,
        "latest_seq": None if hub.latest is None else hub.latest.seq,
        "interval_seconds": hub.interval_seconds,
        "samples_in_memory": len(store),
        "long_poll_waiters": hub.waiters,
    }
    return json_response(request, payload, 200 if status == "ok" else 503,
                         headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def index(request: web.Request) -> web.Response:
    """GET /: what this server is and which endpoints it has."""
    return json_response(request, {"name": "perfmon", "version": __version__, "endpoints": ENDPOINTS})
