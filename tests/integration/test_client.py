"""PerformanceClient against real sockets: ETags, cursors, sharing between tabs, failures in words.

The API is the real app on a real socket in the test's own event loop, behind a counting
middleware that can also hold every request (a hung API), so a test sees exactly how many
requests many tabs cost and how long a hung API holds them.
"""

from __future__ import annotations

import asyncio
import http.server
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from perfmon.api.app import Monitor, create_app
from perfmon.ui.source.client import ApiStarting, ApiUnavailable, PerformanceClient
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.step import tick
from tests.support.apiserver import serving
from tests.support.fakes import FakeClock
from tests.support.processes import free_port

TABS = 50
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CountedApi:
    """The real API app, counting requests by path; ``hang`` holds every request until released."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.counts: Counter[str] = Counter()
        self.history_queries: Counter[str] = Counter()  # /api/history by what it asks
        self.performance_queries: list[str] = []  # /api/performance's query strings, in order
        self.statuses: list[int] = []
        self.released = asyncio.Event()
        self.released.set()
        self.app = create_app(monitor.config, monitor=monitor, sample=False)
        self.app.middlewares.append(self.middleware)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.counts[request.path] += 1
        if request.path == "/api/history":
            self.history_queries["series" if "series" in request.query else "columns"] += 1
        if request.path == "/api/performance":
            self.performance_queries.append(request.query_string)
        await self.released.wait()
        response = await handler(request)
        self.statuses.append(response.status)
        return response

    def hang(self) -> None:
        self.released.clear()

    async def parked(self, count: int = 1) -> None:
        """Return once ``count`` requests wait at the API for the next sample (the hub counts them)."""
        async with asyncio.timeout(5):
            while self.monitor.hub.waiters < count:
                await asyncio.sleep(0.001)

    async def sample(self, count: int = 1) -> int:
        for _ in range(count):
            snapshot = await self.monitor.sampler.sample_once()
        return snapshot.seq


@pytest.fixture
async def api(make_monitor: Callable[..., Monitor]) -> AsyncIterator[tuple[CountedApi, str]]:
    counted = CountedApi(make_monitor(process_interval_seconds=1.0))
    server = TestServer(counted.app, host="127.0.0.1")
    await server.start_server()
    yield counted, str(server.make_url("")).rstrip("/")
    counted.released.set()
    await server.close()
    counted.monitor.sampler.shutdown_worker()


@pytest.fixture
async def client(api: tuple[CountedApi, str], wall: FakeClock) -> AsyncIterator[PerformanceClient]:
    client = PerformanceClient(api[1], poll_seconds=1.0, wall=wall)
    yield client
    await client.close()


async def test_an_unchanged_sample_is_revalidated_not_resent(api: tuple[CountedApi, str]) -> None:
    counted, url = api
    client = PerformanceClient(url + "/", poll_seconds=0.0)  # no sharing: every call asks
    try:
        await counted.sample(1)
        first = await client.performance(2)
        assert await client.performance(2) is first
        await counted.sample(1)
        assert (await client.performance(2))["seq"] == 2
        # the 200 more is the one held read that learns when the API publishes, woken by that sample
        assert counted.statuses == [200, 304, 200, 200]
        assert client.planner.knows_phase(counted.monitor.hub.instance_id)
        await client.processes("cpu", 5, 2)
        await client.processes("cpu", 5, 2)
        assert counted.statuses[-2:] == [200, 304]
    finally:
        await client.close()


async def test_tabs_share_one_request_per_resource(api: tuple[CountedApi, str], client: PerformanceClient,
                                                   wall: FakeClock) -> None:
    counted, _ = api
    await counted.sample(3)
    cursors: list[Any] = [None] * TABS

    async def one(index: int) -> None:
        _, cursors[index] = await tick(client, cursors[index], TickConfig(1.0), span=Span("5m"), sort="cpu",
                                       raw_open=False, now=wall)

    await asyncio.gather(*(one(index) for index in range(TABS)))
    # /api/performance twice: the latest sample, and one held read (still parked) learning the phase;
    # /api/history twice: the fixed charts' columns, and the row charts' series (one each for all tabs);
    # the alerts, their rules and their history once for all tabs
    assert counted.counts == {"/api/performance": 2, "/api/history": 2, "/api/processes": 1,
                              "/api/alerts": 1, "/api/alerts/rules": 1, "/api/alerts/history": 1}
    assert counted.history_queries == {"columns": 1, "series": 1}
    assert counted.monitor.hub.waiters == 1
    assert all(cursor.seq == 3 and cursor.link == "up" for cursor in cursors)


async def test_tabs_with_different_cursors_get_exactly_their_samples_from_one_read(
    api: tuple[CountedApi, str], client: PerformanceClient,
) -> None:
    counted, _ = api
    await counted.sample(2)
    first = await client.history(1, 100, 2, instance=counted.monitor.hub.instance_id, upto=2)
    assert first["series"]["seq"] == [2]  # the first read by cursor: the server follows from there
    await counted.sample(5)
    before = counted.counts["/api/history"]
    answers = await asyncio.gather(*(client.history(since, 100, 2, instance=counted.monitor.hub.instance_id,
                                                    upto=7) for since in (1, 2, 4, 6, 7)))
    assert [answer["series"]["seq"] for answer in answers] == [[2, 3, 4, 5, 6, 7], [3, 4, 5, 6, 7], [5, 6, 7],
                                                               [7], []]
    assert all(answer["truncated"] is False for answer in answers)
    assert counted.counts["/api/history"] == before + 1
    older = await client.history(0, 1, 2, instance=counted.monitor.hub.instance_id, upto=7)
    assert older["series"]["seq"] == [1]  # older than what the server follows: asked alone
    assert counted.counts["/api/history"] == before + 2


async def test_a_hung_api_costs_every_tab_one_shared_budget(
    api: tuple[CountedApi, str], client: PerformanceClient, wall: FakeClock,
) -> None:
    counted, _ = api
    counted.hang()
    settings = TickConfig(poll_interval_seconds=0.5)  # a budget of 0.3 s

    async def one() -> dict[str, Any]:
        view, _ = await tick(client, None, settings, span=Span("5m"), sort="cpu", raw_open=False, now=wall)
        return view.updates

    started = time.monotonic()
    updates = await asyncio.gather(*(one() for _ in range(TABS)))
    elapsed = time.monotonic() - started
    assert counted.counts == {"/api/performance": 1}
    assert all("no answer from" in each["status-detail.children"] for each in updates)
    assert elapsed < 2.0, elapsed  # one budget (0.3 s) for all, not 50; generous for a busy machine
    late = await one()  # within the window: the failure is shared, no new request
    assert "no answer from" in late["status-detail.children"] and counted.counts["/api/performance"] == 1


async def test_no_sample_yet_is_starting(api: tuple[CountedApi, str], client: PerformanceClient) -> None:
    with pytest.raises(ApiStarting, match="not ready: no sample yet"):
        await client.performance(2)


async def test_nothing_listening_is_connection_refused() -> None:
    port = free_port()
    refused = f"connection refused by 127.0.0.1:{port}: is the API server running"
    client = PerformanceClient(f"http://127.0.0.1:{port}")
    with pytest.raises(ApiUnavailable, match=refused):
        await client.performance(2)
    await client.close()


async def test_a_json_error_is_quoted(api: tuple[CountedApi, str]) -> None:
    quoted = "the API answered 404: no such endpoint: /elsewhere/api/performance"
    client = PerformanceClient(api[1] + "/elsewhere")
    with pytest.raises(ApiUnavailable, match=quoted):
        await client.performance(2)
    await client.close()


async def test_a_server_that_is_not_perfmon_is_named_as_such() -> None:
    with serving(http.server.SimpleHTTPRequestHandler) as url:
        client = PerformanceClient(url)
        with pytest.raises(ApiUnavailable, match="without JSON: is it a perfmon API"):
            await client.performance(2)
        await client.close()


async def test_unavailability_is_logged_once_and_so_is_the_recovery(
    make_monitor: Callable[..., Monitor], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="perfmon.ui.source.client")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client = PerformanceClient(url, poll_seconds=0.0)
    for _ in range(3):
        with pytest.raises(ApiUnavailable):
            await client.performance(2)
    counted = CountedApi(make_monitor())
    server = TestServer(counted.app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        await counted.sample(1)
        await client.performance(2)
        await client.performance(2)
    finally:
        await client.close()
        await server.close()
        counted.monitor.sampler.shutdown_worker()
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "perfmon.ui.source.client"]
    assert messages == [
        ("WARNING", f"API {url} unavailable: connection refused by 127.0.0.1:{port}: "
                    "is the API server running? (pages keep retrying; logged once)"),
        ("INFO", f"API {url} answers again"),
    ]


async def test_one_held_read_learns_when_the_api_publishes_then_ticks_are_timed_by_it(
    api: tuple[CountedApi, str], client: PerformanceClient, wall: FakeClock,
) -> None:
    counted, _ = api
    await counted.sample(1)
    first = await client.performance(2)
    await client.performance(2)  # a second tab: no second learning read
    await counted.parked()  # the held read waits at the API for the next sample
    assert counted.counts["/api/performance"] == 2 and not client.planner.knows_phase(first["instance_id"])
    assert client.planner.plan(first["instance_id"], first["timestamp"], 1.0).aligned  # a first guess
    wall.advance(1.0)  # the API's clock: its next sample, a second later
    published = time.monotonic()
    await counted.sample(1)  # the API publishes: the held read is answered at once
    async with asyncio.timeout(5):
        while not client.planner.knows_phase(first["instance_id"]):
            await asyncio.sleep(0.001)
    assert client.planner.offset is not None and counted.monitor.hub.latest is not None
    estimated = client.planner.offset + counted.monitor.hub.latest.timestamp  # when sample 2 came here
    assert published <= estimated <= time.monotonic()
    await client.performance(2)
    assert counted.counts["/api/performance"] <= 3  # known now: no more learning reads


async def test_a_tick_just_before_the_next_sample_is_held_until_it_is_published(
    api: tuple[CountedApi, str], client: PerformanceClient, wall: FakeClock,
) -> None:
    counted, _ = api
    await counted.sample(1)
    sample = await client.performance(2)
    instance = sample["instance_id"]
    # the API published sample 1 just now: its next is due in a second, by the phase learnt
    client.planner.observe(instance, sample["timestamp"], received=time.monotonic(), woken=True)
    client.planner.observe(instance, sample["timestamp"] - 1.0, received=time.monotonic() - 1.9, woken=True)
    # as if sample 1 had been published 0.9 s ago: sample 2 is due in 0.1 s, so a tick now waits for it
    waiting = asyncio.ensure_future(client.performance(2))
    await counted.parked()  # the held read waits at the API for the next sample
    assert not waiting.done()
    await counted.sample(1)
    assert (await waiting)["seq"] == 2


async def test_a_tick_that_knows_the_next_sample_is_due_asks_for_it_in_one_held_request(
    api: tuple[CountedApi, str], client: PerformanceClient,
) -> None:
    counted, _ = api
    await counted.sample(3)
    sample = await client.performance(2)  # seq 3, read plainly: the phase is not known yet
    await counted.parked()  # and a held read learning it
    instance = sample["instance_id"]
    client.planner.observe(instance, sample["timestamp"], received=time.monotonic() - 0.9, woken=True)
    # sample 3 was visible here 0.9 s ago: sample 4 is due in 0.1 s, so the tick asks for what follows 3
    asked = len(counted.performance_queries)
    waiting = asyncio.ensure_future(client.performance(2))
    await counted.parked(2)
    assert not waiting.done()
    await counted.sample(1)
    assert (await waiting)["seq"] == 4
    held = counted.performance_queries[asked:]
    assert len(held) == 1 and held[0].startswith("after=3&wait=0.2"), held  # no plain read first


async def test_closing_the_client_stops_a_held_read_learning_the_phase(api: tuple[CountedApi, str]) -> None:
    counted, url = api
    client = PerformanceClient(url, poll_seconds=1.0)
    await counted.sample(1)
    await client.performance(2)
    await counted.parked()  # the held read waits at the API for the next sample
    learning = client._learning
    await client.close()
    assert learning is not None and learning.cancelled() and client._learning is None
