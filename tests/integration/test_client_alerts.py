"""The dashboard's alert reads against a real API: the rules once per instance, history only when it grew."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from perfmon.alerts.rules import parse
from perfmon.api.app import Monitor, create_app
from perfmon.ui.source.client import ApiUnavailable, PerformanceClient
from tests.support.alerting import sample
from tests.support.fakes import FakePsutil

RULES = parse("""builtin_rules: false
rules:
  - {name: Hot, select: cpu.percent, above: 50, clear: 40, severity: critical}
""", "rules.yml")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def served(make_monitor: Callable[..., Monitor]) -> AsyncIterator[tuple[Monitor, web.Application, str,
                                                                               Counter[str]]]:
    monitor = make_monitor(clock=time.time, alerts=RULES)
    app = create_app(monitor.config, monitor=monitor, sample=False)
    counts: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        counts[request.path] += 1
        return await handler(request)

    app.middlewares.append(count)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield monitor, app, str(server.make_url("")).rstrip("/"), counts
    await server.close()
    monitor.sampler.shutdown_worker()


async def test_rules_are_read_once_and_history_only_when_a_transition_was_recorded(
    served: Any, fake_ps: FakePsutil,
) -> None:
    monitor, app, url, counts = served
    client = PerformanceClient(url, poll_seconds=0.0)  # nothing shared between reads: each one asks
    try:
        fake_ps.cpu_total = 10.0
        await sample(monitor, app)
        now = time.time()
        quiet = await client.alerting.read(monitor.hub.instance_id, now - 300, now, lambda: 2.0)
        assert (quiet.summary["alerts"], quiet.history, [r["name"] for r in quiet.rules]) == ([], (), ["Hot"])
        assert quiet.since <= now - 86400  # at least a day of history for the panel
        await client.alerting.read(monitor.hub.instance_id, now - 300, now, lambda: 2.0)
        reads = (counts["/api/alerts"], counts["/api/alerts/rules"], counts["/api/alerts/history"])
        assert reads == (2, 1, 1)
        fake_ps.cpu_total = 95.0
        await sample(monitor, app)
        hot = await client.alerting.read(monitor.hub.instance_id, now - 300, now, lambda: 2.0)
        assert [a["alertname"] for a in hot.summary["alerts"]] == ["Hot"]
        assert [t["kind"] for t in hot.history] == ["firing"]
        assert (counts["/api/alerts/rules"], counts["/api/alerts/history"]) == (1, 2)
        month = await client.alerting.read(monitor.hub.instance_id, now - 30 * 86400, now, lambda: 2.0)
        assert month.since <= now - 30 * 86400 and counts["/api/alerts/history"] == 3  # further back: asked
    finally:
        await client.close()


async def test_a_silence_set_and_lifted_through_the_client(served: Any, fake_ps: FakePsutil) -> None:
    monitor, app, url, _ = served
    client = PerformanceClient(url, poll_seconds=0.0)
    try:
        fake_ps.cpu_total = 95.0
        await sample(monitor, app)
        set_ = await client.write("POST", "/api/silences", None,
                                  {"match": {"alertname": "Hot"}, "until": time.time() + 3600}, 2.0)
        assert set_ is not None and set_["id"].startswith("api-")
        now = time.time()
        read = await client.alerting.read(monitor.hub.instance_id, now - 300, now, lambda: 2.0)
        assert read.summary["alerts"][0]["silenced_by"] == [set_["id"]]
        assert await client.write("DELETE", "/api/silences", {"id": set_["id"]}, None, 2.0) is None
        with pytest.raises(ApiUnavailable, match="404"):
            await client.write("DELETE", "/api/silences", {"id": set_["id"]}, None, 2.0)
    finally:
        await client.close()
