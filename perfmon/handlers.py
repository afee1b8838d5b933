"""Request handlers: validate parameters, read what the sampler published, never sample."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

from perfmon import __version__
from perfmon.collectors import top_by
from perfmon.errors import ApiError
from perfmon.models import Snapshot
from perfmon.sampler import Sampler, ShuttingDown

SAMPLER = web.AppKey("sampler", Sampler)

MAX_WAIT_SECONDS = 60.0
MAX_HISTORY_LIMIT = 3600
MAX_PROCESS_LIMIT = 100
PROCESS_SORT_FIELDS = {"cpu": "cpu_percent", "memory": "memory_percent"}
STALE_AFTER_INTERVALS = 3
COMPRESS_MIN_BYTES = 1024
NO_CACHE = "no-cache"
ENDPOINTS = {
    "/api/performance": "latest sample; ETag/If-None-Match -> 304; ?wait=S long-polls",
    "/api/history": "recent samples by cursor: ?since=SEQ&limit=N (&wait=S)",
    "/api/processes": "process table: ?sort=cpu|memory&limit=N",
    "/api/health": "liveness and freshness of the sampler",
}


# --- parameters ----------------------------------------------------------------------

def query_number(
    query: Mapping[str, str], name: str, *, low: float, high: float,
    integer: bool = False, low_open: bool = False,
) -> float | int | None:
    """An optional numeric query parameter within bounds; 400 naming it otherwise."""
    raw = query.get(name)
    if raw is None:
        return None
    kind = "a whole number" if integer else "a number"
    low_text, high_text = (str(int(low)), str(int(high))) if integer else (f"{low:g}", f"{high:g}")
    lower = f"greater than {low_text}" if low_open else f"from {low_text}"
    expected = f"parameter '{name}' must be {kind} {lower} to {high_text}, got {raw!r}"
    try:
        value: float | int = int(raw) if integer else float(raw)
    except ValueError:
        raise ApiError(400, expected) from None
    if not (low < value if low_open else low <= value) or not value <= high:
        raise ApiError(400, expected)
    return value


def query_choice(query: Mapping[str, str], name: str, choices: Mapping[str, Any], default: str) -> str:
    """An optional query parameter from a fixed set; 400 listing the choices otherwise."""
    raw = query.get(name, default)
    if raw not in choices:
        allowed = "|".join(choices)
        raise ApiError(400, f"parameter '{name}' must be one of {allowed}, got {raw!r}")
    return raw


def wait_seconds(request: web.Request) -> float | None:
    """The long-poll budget asked for with ?wait=S (0 < S <= 60)."""
    return query_number(request.query, "wait", low=0, high=MAX_WAIT_SECONDS, low_open=True)


@lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """True if an Accept-Encoding header admits gzip: q > 0 for gzip, or else for ``*``."""
    qualities: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        qualities[coding.strip()] = quality
    for coding in ("gzip", "x-gzip", "*"):  # an explicit gzip rules over the wildcard
        if coding in qualities:
            return qualities[coding] > 0
    return False


def etag_matches(request: web.Request, *tags: str) -> bool:
    """True if If-None-Match names one of ``tags`` (weak comparison, ``*`` included)."""
    raw = request.headers.get(hdrs.IF_NONE_MATCH)
    if not raw:
        return False
    if raw[0] == '"' and raw[-1] == '"' and "," not in raw:
        return raw[1:-1] in tags  # the usual poll, one strong tag: no list to parse
    candidates = request.if_none_match
    if not candidates:
        return False
    return any(c.value == "*" or c.value in tags for c in candidates)


def json_response(request: web.Request, payload: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response, gzip-compressed when the client accepts it and it is worth it."""
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    response = web.Response(body=body, status=status, content_type="application/json",
                            headers=headers)
    if len(body) >= COMPRESS_MIN_BYTES and accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
        response.enable_compression(web.ContentCoding.gzip)
    return response


async def wait_or_shutdown(sampler: Sampler, after_seq: int | None, timeout: float) -> Snapshot | None:
    """Long-poll for a newer snapshot; 503 if the server stops meanwhile."""
    try:
        return await sampler.wait_for_sample(after_seq, timeout)
    except ShuttingDown:
        raise ApiError(503, "the server is shutting down", {"Retry-After": "1"}) from None


def starting_error() -> ApiError:
    """503 for a request that arrives before the first sample."""
    return ApiError(503, "no sample yet: the sampler is starting, retry in a second",
                    {"Retry-After": "1"})


# --- handlers --------------------------------------------------------------------------

async def performance(request: web.Request) -> web.StreamResponse:
    """GET /api/performance: the latest snapshot, 304 if unchanged, long-poll with ?wait=S."""
    sampler = request.app[SAMPLER]
    wait = wait_seconds(request) if request.query_string else None
    snapshot = sampler.latest
    if snapshot is None and wait:
        snapshot = await wait_or_shutdown(sampler, None, wait)
    if snapshot is None:
        raise starting_error()
    if etag_matches(request, snapshot.etag, snapshot.etag_gzip):
        if wait:
            newer = await wait_or_shutdown(sampler, snapshot.seq, wait)
            if newer is not None:
                return snapshot_response(request, newer)
        headers = snapshot_headers(snapshot.etag, None).copy()
        del headers[hdrs.CONTENT_TYPE]
        return web.Response(status=304, headers=headers)
    return snapshot_response(request, snapshot)


@lru_cache(maxsize=8)
def snapshot_headers(etag: str, encoding: str | None) -> CIMultiDict[str]:
    """Response headers of one snapshot representation, built once per sample."""
    headers = CIMultiDict({
        hdrs.CONTENT_TYPE: "application/json", hdrs.CACHE_CONTROL: NO_CACHE,
        hdrs.VARY: "Accept-Encoding", "ETag": f'"{etag}"',
    })
    if encoding:
        headers[hdrs.CONTENT_ENCODING] = encoding
    return headers


def snapshot_response(request: web.Request, snapshot: Snapshot) -> web.Response:
    """The snapshot's pre-serialised bytes, gzip ones where accepted."""
    accept_encoding = request.headers.get(hdrs.ACCEPT_ENCODING)
    if snapshot.body_gzip is not None and accept_encoding and accepts_gzip(accept_encoding):
        return web.Response(body=snapshot.body_gzip,
                            headers=snapshot_headers(snapshot.etag_gzip, "gzip").copy())
    return web.Response(body=snapshot.body, headers=snapshot_headers(snapshot.etag, None).copy())


async def history(request: web.Request) -> web.Response:
    """GET /api/history: columnar samples after a cursor (``since``), oldest first."""
    sampler = request.app[SAMPLER]
    query = request.query
    since = query_number(query, "since", low=0, high=2**63 - 1, integer=True)
    limit = query_number(query, "limit", low=1, high=MAX_HISTORY_LIMIT, integer=True)
    wait = wait_seconds(request)
    if wait and since is not None and (sampler.latest is None or sampler.latest.seq == since):
        # Only a cursor at the head waits; one from the future belongs to another instance
        # and is answered at once, so the client sees the new instance_id and resets.
        await wait_or_shutdown(sampler, int(since), wait)
    part = sampler.history.read(None if since is None else int(since),
                                MAX_HISTORY_LIMIT if limit is None else int(limit))
    payload = {
        "instance_id": sampler.instance_id,
        "latest_seq": sampler.history.latest_seq,
        "first_seq": sampler.history.first_seq,
        "interval_seconds": sampler.config.interval_seconds,
        "truncated": part.truncated,
        "series": part.columns(),
    }
    return json_response(request, payload, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def processes(request: web.Request) -> web.StreamResponse:
    """GET /api/processes: the latest process scan, sorted descending."""
    sampler = request.app[SAMPLER]
    sort = query_choice(request.query, "sort", PROCESS_SORT_FIELDS, "cpu")
    limit = query_number(request.query, "limit", low=1, high=MAX_PROCESS_LIMIT, integer=True)
    table = sampler.processes
    if table is None:
        raise starting_error()
    etag = f"{sampler.instance_id}-p{table.scan_seq}"
    headers = {"ETag": f'"{etag}"', hdrs.CACHE_CONTROL: NO_CACHE}
    if etag_matches(request, etag):
        return web.Response(status=304, headers=headers)
    rows = top_by(table.processes, PROCESS_SORT_FIELDS[sort], 10 if limit is None else int(limit))
    payload = {
        "sampled_at": table.sampled_at,
        "count": table.count,
        "sort": sort,
        "error": table.error,
        "processes": rows,
    }
    return json_response(request, payload, headers=headers)


async def health(request: web.Request) -> web.Response:
    """GET /api/health: 200 while samples are fresh, 503 while starting or stale."""
    sampler = request.app[SAMPLER]
    now = time.time()
    latest = sampler.latest
    interval = sampler.config.interval_seconds
    age = None if latest is None else round(max(0.0, now - latest.timestamp), 3)
    if latest is None:
        status = "starting"
    elif age is not None and age > STALE_AFTER_INTERVALS * interval:
        status = "stale"
    else:
        status = "ok"
    payload = {
        "status": status,
        "version": __version__,
        "instance_id": sampler.instance_id,
        "uptime_seconds": round(now - sampler.started_at, 3),
        "last_sample_age_seconds": age,
        "latest_seq": None if latest is None else latest.seq,
        "interval_seconds": interval,
        "samples_in_memory": len(sampler.history),
    }
    return json_response(request, payload, 200 if status == "ok" else 503,
                         headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def index(request: web.Request) -> web.Response:
    """GET /: what this server is and which endpoints it has."""
    return json_response(request, {"name": "perfmon", "version": __version__, "endpoints": ENDPOINTS})
