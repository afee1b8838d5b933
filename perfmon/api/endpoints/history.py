"""GET /api/history: the live tail by cursor (``since``, ``limit``) or a time range (``start``,
``end``, ``points``), as JSON columns or as CSV (``format=csv``); ``series=`` picks series by
selector (``selection``), else the answer is today's columns."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs, web

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.headers import secured
from perfmon.api.edge.params import Choice, Number, Param, Selectors
from perfmon.api.edge.responses import NO_CACHE, json_response
from perfmon.api.endpoints.longpoll import WAIT, wait_or_shutdown, wait_seconds
from perfmon.api.endpoints.selection import (
    MAX_SELECTORS,
    keys_of,
    range_columns,
    read_selectors,
    tail_columns,
)
from perfmon.api.endpoints.state import HUB, STORE
from perfmon.core import bounds
from perfmon.sampling.hub import Hub
from perfmon.store.base import HistorySlice, HistoryStore, RangeResult
from perfmon.store.sqlite.store import MAX_LIMIT

TAIL_LIMIT = bounds.TAIL_LIMIT
MAX_POINTS = bounds.HISTORY_POINTS_MAX
DEFAULT_POINTS = bounds.HISTORY_POINTS_DEFAULT
LAST_TIMESTAMP = bounds.LAST_TIMESTAMP  # 2100-01-01: anything later is a typo, not a time
FORMATS = {"json": "application/json", "csv": "text/csv"}
RANGE_ONLY = ("end", "points")
TAIL_ONLY = ("since", "limit", "wait")
TAIL = "the live tail (cannot go with start)"
RANGE = "a time range (needs start; cannot go with since, limit or wait)"

FORMAT = Choice("format", "json: columns in a JSON object; csv: a download with a header row (a list "
                          "column becomes one column per element)", tuple(FORMATS), "json")
SINCE = Number("since", f"{TAIL}: the rows after this seq (a cursor); without it, the last limit rows",
               low=0, high=2**63 - 1, integer=True)
LIMIT = Number("limit", f"{TAIL}: the most rows to answer. The largest allowed depends on the server: "
                        f"{MAX_LIMIT} where it keeps history on disk (the default, --data-dir), else "
                        f"{TAIL_LIMIT} or its --history-size if larger; above it, 400",
               low=1, high=max(TAIL_LIMIT, MAX_LIMIT), integer=True, default=TAIL_LIMIT)
START = Number("start", "a time range (cannot go with since, limit or wait): its start, Unix seconds",
               low=0, high=LAST_TIMESTAMP)
END = Number("end", f"{RANGE}: its end, Unix seconds, after start (default: now)", low=0, high=LAST_TIMESTAMP)
POINTS = Number("points", f"{RANGE}: the most buckets (min, mean and max each) to answer",
                low=1, high=MAX_POINTS, integer=True, default=DEFAULT_POINTS)
SERIES = Selectors("series", "series to answer instead of today's columns, by selector (for example "
                            "`disks[mountpoint=/].percent`, `network[interface!=lo].recv_bytes_per_s`, "
                            "`memory.percent`); repeated, or several in one separated by commas outside "
                            f"brackets and quotes; at most {MAX_SELECTORS} selectors and 500 series. Each "
                            "becomes a column named by its series key (with `_min` and `_max` in a range), "
                            "described in `keys`; one that matches nothing adds nothing",
                    MAX_SELECTORS, read_selectors)
PARAMETERS: tuple[Param, ...] = (FORMAT, SINCE, LIMIT, WAIT, START, END, POINTS, SERIES)


def check_combination(query: Mapping[str, str]) -> bool:
    """True for a range query; 400 when the two forms' parameters are mixed."""
    ranged = "start" in query
    if not ranged:
        for name in RANGE_ONLY:
            if name in query:
                raise ApiError(400, f"parameter '{name}' needs 'start': a time range is start to end")
        return False
    for name in TAIL_ONLY:
        if name in query:
            raise ApiError(400, f"parameter '{name}' cannot go with 'start': '{name}' reads the live tail "
                                "by cursor, 'start', 'end' and 'points' a time range")
    return True


async def read_tail(request: web.Request, hub: Hub, store: HistoryStore) -> HistorySlice:
    """The samples after ``since`` (or the last ``limit``), long-polling with ``wait``."""
    query = request.query
    since = SINCE.read(query)
    limit = LIMIT.read(query, high=max(TAIL_LIMIT, store.max_limit))  # more where the store holds more
    wait = wait_seconds(request)
    if wait and since is not None and (hub.latest is None or hub.latest.seq == since):
        # Only a cursor at the head waits; one from the future belongs to another instance
        # and is answered at once, so the client sees the new instance_id and resets.
        await wait_or_shutdown(hub, int(since), wait)
    cursor, count = None if since is None else int(since), int(limit or TAIL_LIMIT)
    cached = store.read_cached(cursor, count)
    return cached if cached is not None else await asyncio.to_thread(store.read, cursor, count)


def range_bounds(query: Mapping[str, str], now: float) -> tuple[float, float, int]:
    """start, end (default now) and points of a range query; 400 naming a bad one."""
    start, end, points = START.read(query), END.read(query), POINTS.read(query)
    assert start is not None  # check_combination said it is there
    end = round(now, 3) if end is None else end
    if start >= end:
        given_end = query.get("end") or f"{end:.15g}"  # as typed, or now in full: never 1.7e+09
        raise ApiError(400, f"parameter 'start' must be before 'end' ({given_end}), got {query.get('start')}")
    return float(start), float(end), DEFAULT_POINTS if points is None else int(points)


def range_payload(hub: Hub, store: HistoryStore, result: RangeResult) -> dict[str, Any]:
    """The JSON answer of a range query."""
    return {"instance_id": hub.instance_id, "latest_seq": store.latest_seq, "start": result.start,
            "end": result.end, "resolution_seconds": result.resolution_seconds, "tier": result.tier,
            "series": result.series}


def tail_payload(hub: Hub, store: HistoryStore, part: HistorySlice) -> dict[str, Any]:
    """The JSON answer of a cursor read."""
    return {"instance_id": hub.instance_id, "latest_seq": store.latest_seq, "first_seq": store.first_seq,
            "interval_seconds": hub.interval_seconds, "truncated": part.truncated, "series": part.columns()}


def to_csv(series: Mapping[str, list[Any]]) -> str:
    """Columns as CSV with a header row; a list column becomes one column per element."""
    names: list[str] = []
    columns: list[list[Any]] = []
    for name, values in series.items():
        width = max((len(v) for v in values if isinstance(v, list)), default=0)
        if width or any(isinstance(v, list) for v in values):
            for k in range(width):
                names.append(f"{name}_{k}")
                columns.append([v[k] if isinstance(v, list) and k < len(v) else None for v in values])
        else:
            names.append(name)
            columns.append(values)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(["" if v is None else v for v in row] for row in zip(*columns, strict=True))
    return out.getvalue()


def csv_response(series: Mapping[str, list[Any]], filename: str) -> web.Response:
    """The series as a CSV download."""
    return web.Response(text=to_csv(series), content_type="text/csv", headers=secured({
        hdrs.CACHE_CONTROL: NO_CACHE, hdrs.CONTENT_DISPOSITION: f'attachment; filename="{filename}"'}))


async def history(request: web.Request, hub: Hub, store: HistoryStore) -> web.Response:
    """Answer either form of /api/history in the format asked for."""
    query = request.query
    fmt = FORMAT.read(query)
    selectors = SERIES.read(query)
    if check_combination(query):
        start, end, points = range_bounds(query, time.time())
        if selectors:
            result = await asyncio.to_thread(store.read_range, start, end, points, selectors)
        else:
            result = await asyncio.to_thread(store.read_range, start, end, points)
        payload = range_payload(hub, store, result)
        if selectors:
            picked, payload["series"] = range_columns(result, selectors)
            payload["keys"] = keys_of(picked)
        if fmt == "csv":
            return csv_response(payload["series"], f"perfmon-{hub.instance_id}-{start:.0f}-{end:.0f}.csv")
        return json_response(request, payload, headers={hdrs.CACHE_CONTROL: NO_CACHE})
    part = await read_tail(request, hub, store)
    payload = tail_payload(hub, store, part)
    if selectors:
        picked, payload["series"] = tail_columns(part.rows, selectors)
        payload["keys"] = keys_of(picked)
    if fmt == "csv":
        return csv_response(payload["series"], f"perfmon-{hub.instance_id}-tail.csv")
    return json_response(request, payload, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def endpoint(request: web.Request) -> web.Response:
    """GET /api/history: the live tail by cursor, or a time range; JSON columns or CSV."""
    return await history(request, request.app[HUB], request.app[STORE])
