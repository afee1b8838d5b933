"""GET /api/health: fresh samples (200) or not (503), and, with the token, the server and its store."""

from __future__ import annotations

import time

from aiohttp import web

from perfmon.api.edge.security import GUARD
from perfmon.api.endpoints.health_answer import HEALTH, HealthAnswers, store_json
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
    load balancer, nothing about the host. The bytes are joined from parts made once
    (perfmon.api.endpoints.health_answer): load balancers poll this. The clock is read to the
    millisecond, as the answer shows it, so the polls of one millisecond share one answer (made
    again at once for a new sample or another count of long-polls).
    """
    app = request.app
    hub, answers = app[HUB], app[HEALTH]
    now = int(time.time() * 1000) / 1000
    if app[GUARD].anonymous(request):
        status = freshness(hub, now)[0]
        return answers.anonymous(request, status, 200 if status == "ok" else 503)
    key = (now, hub.latest, hub.waiters, hub.collectors)
    made = answers.made
    if made[0] != key:
        made = answers.made = (key, *whole(answers, hub, app[STORE], now))
    return answers.response(request, made[1], made[2])


def whole(answers: HealthAnswers, hub: Hub, store: HistoryStore, now: float) -> tuple[int, bytes]:
    """The status code and the whole answer's bytes as of ``now``."""
    status, age = freshness(hub, now)
    latest = hub.latest
    seq = None if latest is None else latest.seq
    held, samples = answers.store_status(store, seq)
    numbers = (round(now - hub.started_at, 3), age, seq, samples, hub.waiters)
    return (200 if status == "ok" else 503), answers.body(status, numbers, held, hub.collectors)


def store_status(store: HistoryStore) -> dict[str, object]:
    """Where history is kept, how big it is, since when, whether writes work, and its last salvage."""
    return store_json(store.status())
