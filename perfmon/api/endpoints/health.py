"""GET /api/health: fresh samples (200) or not (503), and, with the token, the server and its store."""

from __future__ import annotations

import time

from aiohttp import hdrs, web

from perfmon import __version__
from perfmon.api.edge.responses import NO_CACHE, json_response
from perfmon.api.edge.security import GUARD
from perfmon.api.endpoints.state import HUB, STORE
from perfmon.sampling.hub import Hub
from perfmon.store.base import HistoryStore

STALE_AFTER_INTERVALS = 3


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
    load balancer, nothing about the host.
    """
    hub, store = request.app[HUB], request.app[STORE]
    now = time.time()
    status, age = freshness(hub, now)
    code = 200 if status == "ok" else 503
    if request.app[GUARD].anonymous(request):
        return json_response(request, {"status": status}, code, headers={hdrs.CACHE_CONTROL: NO_CACHE})
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
        "store": store_status(store),
        "collectors": hub.collectors,
    }
    return json_response(request, payload, code, headers={hdrs.CACHE_CONTROL: NO_CACHE})


def store_status(store: HistoryStore) -> dict[str, object]:
    """Where history is kept, how big it is, since when, whether writes work, and its last salvage."""
    status = store.status()
    salvaged = None if status.salvaged is None else status.salvaged.as_json()
    return {"path": status.path, "size_bytes": status.size_bytes, "oldest_timestamp": status.oldest_timestamp,
            "status": status.status, "error": status.error, "salvaged": salvaged}
