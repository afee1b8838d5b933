"""GET /api/alerts (what is pending or firing) and GET /api/alerts/history (what happened when).

Both read the alert book (perfmon.alerts.book), which the engine updates on the event loop just
after each sample is published; neither evaluates anything.
"""

from __future__ import annotations

import time

from aiohttp import hdrs, web

from perfmon.alerts.book import rule_json
from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.params import Number, Param
from perfmon.api.edge.responses import NO_CACHE, json_response
from perfmon.api.endpoints.state import ALERTS, SILENCES
from perfmon.core.bounds import LAST_TIMESTAMP

DAY_SECONDS = 86400.0
HISTORY_START = Number("start", "the first moment, Unix seconds (default: a day before end)", low=0,
                       high=LAST_TIMESTAMP)
HISTORY_END = Number("end", "the moment after the last, Unix seconds, after start (default: now)", low=0,
                     high=LAST_TIMESTAMP)
HISTORY_PARAMETERS: tuple[Param, ...] = (HISTORY_START, HISTORY_END)


async def alerts(request: web.Request) -> web.StreamResponse:
    """GET /api/alerts: the alerts pending or firing now, with their values, levels and silences."""
    book = request.app[ALERTS]
    active = book.active()
    now = time.time()
    silences = request.app[SILENCES].all()
    for alert in active:
        labels = {**alert["labels"], "host": book.host}
        alert["silenced_by"] = [s.id for s in silences if s.covers(labels, now)]
    payload = {"evaluated_at": book.evaluated_at, "samples_evaluated": book.evaluated,
               "transitions": book.recorded, "rules": len(book.rules), "firing": book.counts(),
               "alerts": active}
    return json_response(request, payload, headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def alert_rules(request: web.Request) -> web.StreamResponse:
    """GET /api/alerts/rules: the rules in force (the file's and the built-in ones), as they were read."""
    book = request.app[ALERTS]
    return json_response(request, {"rules": [rule_json(rule) for rule in book.rules.values()]},
                         headers={hdrs.CACHE_CONTROL: NO_CACHE})


async def alerts_history(request: web.Request) -> web.StreamResponse:
    """GET /api/alerts/history: the alerts' transitions (firing, repeat, resolved) over a time range."""
    query = request.query
    end = HISTORY_END.read(query)
    end = time.time() if end is None else float(end)
    start = HISTORY_START.read(query)
    start = end - DAY_SECONDS if start is None else float(start)
    if start >= end:
        raise ApiError(400, f"parameter 'start' ({start:g}) must come before 'end' ({end:g})")
    book = request.app[ALERTS]
    return json_response(request, {"start": start, "end": end, "transitions": book.records(start, end)},
                         headers={hdrs.CACHE_CONTROL: NO_CACHE})
