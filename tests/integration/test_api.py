"""Every endpoint through a real aiohttp server (aiohttp_client), samples published by the test."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from perfmon.api.app import Monitor, create_app
from tests.support.fakes import FakeClock, FakePsutil, proc_info

Client = TestClient[web.Request, web.Application]
MakeMonitor = Callable[..., Monitor]


@pytest.fixture
def monitor(make_monitor: MakeMonitor) -> Monitor:
    return make_monitor(clock=time.time)


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], monitor: Monitor
) -> Client:
    app = create_app(monitor.config, monitor=monitor, sample=False)
    yield await aiohttp_client(app)
    monitor.sampler.shutdown_worker()


async def parked(monitor: Monitor, count: int = 1) -> None:
    """Return once ``count`` requests are waiting for the next sample (the hub counts them)."""
    async with asyncio.timeout(5):
        while monitor.hub.waiters < count:
            await asyncio.sleep(0.001)


async def assert_json_error(response: object, status: int, *words: str) -> dict:
    assert response.status == status  # type: ignore[attr-defined]
    assert response.content_type == "application/json"  # type: ignore[attr-defined]
    body = await response.json()  # type: ignore[attr-defined]
    assert body["error"]["status"] == status
    for word in words:
        assert word in body["error"]["message"], body
    return body


# --- /api/performance ---------------------------------------------------------------------

async def test_performance_before_first_sample_is_503(client: Client) -> None:
    response = await client.get("/api/performance")
    await assert_json_error(response, 503, "starting")
    assert response.headers["Retry-After"] == "1"


async def test_performance_serves_the_published_bytes(client: Client, monitor: Monitor) -> None:
    snapshot = await monitor.sampler.sample_once()
    response = await client.get("/api/performance", headers={"Accept-Encoding": "identity"})
    assert response.status == 200
    assert await response.read() == snapshot.body
    assert response.headers["ETag"] == f'"{monitor.hub.instance_id}-1"'
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.content_type == "application/json"


async def test_unchanged_poll_is_304_without_body(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    first = await client.get("/api/performance")
    etag = first.headers["ETag"]
    again = await client.get("/api/performance", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert etag == f'"{monitor.hub.instance_id}-1-gzip"'  # the client accepts gzip: that representation
    assert again.headers["ETag"] == etag  # a 304 names what a 200 would send (RFC 9110 15.4.5)
    plain = await client.get("/api/performance",
                             headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert plain.status == 304 and plain.headers["ETag"] == f'"{monitor.hub.instance_id}-1"'
    assert again.headers["Cache-Control"] == "no-cache"
    assert "Content-Type" not in again.headers  # no body, so no type: RFC 9110 section 15.4.5
    await monitor.sampler.sample_once()
    changed = await client.get("/api/performance", headers={"If-None-Match": etag})
    assert changed.status == 200 and (await changed.json())["seq"] == 2


@pytest.mark.parametrize("header", ['"x-9", {tag}', "W/{tag}", "*", ' {tag} '])
async def test_if_none_match_lists_weak_tags_and_star(client: Client, monitor: Monitor, header: str) -> None:
    await monitor.sampler.sample_once()
    tag = f'"{monitor.hub.instance_id}-1"'
    response = await client.get("/api/performance", headers={"If-None-Match": header.format(tag=tag)})
    assert response.status == 304


async def test_etag_of_another_instance_gets_the_body(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    response = await client.get("/api/performance", headers={"If-None-Match": '"0123456789ab-1"'})
    assert response.status == 200


async def test_gzip_when_accepted(client: Client, monitor: Monitor) -> None:
    snapshot = await monitor.sampler.sample_once()
    response = await client.get("/api/performance", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert int(response.headers["Content-Length"]) == len(snapshot.body_gzip or b"")
    assert await response.read() == snapshot.body  # the client decompresses
    gz_etag = response.headers["ETag"]
    assert gz_etag != f'"{snapshot.etag}"'
    again = await client.get("/api/performance",
                             headers={"Accept-Encoding": "gzip", "If-None-Match": gz_etag})
    assert again.status == 304
    refused = await client.get("/api/performance", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


async def test_long_poll_wakes_on_the_next_sample(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    started = time.monotonic()
    poll = asyncio.create_task(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}))
    await parked(monitor)
    assert not poll.done()
    await monitor.sampler.sample_once()
    response = await asyncio.wait_for(poll, 5)
    assert response.status == 200 and (await response.json())["seq"] == 2
    assert time.monotonic() - started < 5


WOKEN_HEADERS = ("Content-Type", "Cache-Control", "Vary", "ETag", "Content-Length", "Content-Encoding")


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
async def test_a_woken_long_poll_is_answered_as_any_poll_and_keeps_its_connection(
    client: Client, monitor: Monitor, encoding: str,
) -> None:
    """Woken answers are prebuilt bytes (api.endpoints.prebuilt): the same headers and body as usual."""
    headers = {"Accept-Encoding": encoding}
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance", headers=headers)).headers["ETag"]
    for seq in (2, 3):  # twice over one kept-alive connection
        poll = asyncio.create_task(client.get("/api/performance?wait=10",
                                              headers={**headers, "If-None-Match": etag}))
        await parked(monitor)
        await monitor.sampler.sample_once()
        woken = await asyncio.wait_for(poll, 5)
        usual = await client.get("/api/performance", headers=headers)
        assert woken.status == usual.status == 200
        assert [woken.headers.get(name) for name in WOKEN_HEADERS] == \
               [usual.headers.get(name) for name in WOKEN_HEADERS]
        assert "Date" in woken.headers and "Server" in woken.headers
        assert (await woken.read()) == (await usual.read()) == monitor.hub.latest.body
        assert (await woken.json())["seq"] == seq
        etag = woken.headers["ETag"]
    assert (woken.headers.get("Content-Encoding") == "gzip") == (encoding == "gzip")


async def test_a_woken_long_poll_that_closes_its_connection_is_answered_the_usual_way(
    client: Client, monitor: Monitor,
) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    poll = asyncio.create_task(client.get("/api/performance?wait=10",
                                          headers={"If-None-Match": etag, "Connection": "close"}))
    await parked(monitor)
    await monitor.sampler.sample_once()
    woken = await asyncio.wait_for(poll, 5)
    assert woken.status == 200 and (await woken.json())["seq"] == 2
    assert woken.headers.get("Connection", "").lower() == "close"


async def test_a_long_poll_whose_client_left_is_skipped_and_the_others_answered(
    client: Client, monitor: Monitor, caplog: pytest.LogCaptureFixture,
) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    gone = asyncio.create_task(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}))
    staying = asyncio.create_task(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}))
    await parked(monitor, 2)
    gone.cancel()  # the client closes its connection while parked
    with contextlib.suppress(asyncio.CancelledError):
        await gone
    await monitor.sampler.sample_once()
    woken = await asyncio.wait_for(staying, 5)
    assert woken.status == 200 and (await woken.json())["seq"] == 2
    async with asyncio.timeout(5):  # the left one's handler ends too, without an error
        while monitor.hub.waiters:
            await asyncio.sleep(0.001)
    servers = ("aiohttp", "asyncio", "perfmon.api")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith(servers)] == []


async def test_long_poll_times_out_to_304(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    started = time.monotonic()
    response = await client.get("/api/performance?wait=0.3", headers={"If-None-Match": etag})
    assert response.status == 304
    assert 0.25 <= time.monotonic() - started < 3


async def test_long_poll_with_stale_etag_answers_at_once(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    await monitor.sampler.sample_once()
    response = await asyncio.wait_for(
        client.get("/api/performance?wait=30", headers={"If-None-Match": etag}), 5)
    assert response.status == 200 and (await response.json())["seq"] == 2


async def test_long_poll_can_wait_for_the_first_sample(client: Client, monitor: Monitor) -> None:
    poll = asyncio.create_task(client.get("/api/performance?wait=10"))
    await parked(monitor)
    await monitor.sampler.sample_once()
    response = await asyncio.wait_for(poll, 5)
    assert response.status == 200 and (await response.json())["seq"] == 1


async def test_a_long_poll_after_a_seq_waits_for_a_newer_sample_without_an_etag(
    client: Client, monitor: Monitor,
) -> None:
    """``after`` names the latest sample the client has: one request, held until the next is published."""
    await monitor.sampler.sample_once()
    await monitor.sampler.sample_once()
    at_once = await asyncio.wait_for(client.get("/api/performance?after=1&wait=30"), 5)
    assert at_once.status == 200 and (await at_once.json())["seq"] == 2  # newer than 1 already
    ahead = await asyncio.wait_for(client.get("/api/performance?after=99&wait=30"), 5)
    assert (await ahead.json())["seq"] == 2  # a seq this API never gave (it restarted): no hold
    poll = asyncio.create_task(client.get("/api/performance?after=2&wait=10"))
    await parked(monitor)
    assert not poll.done()
    await monitor.sampler.sample_once()
    response = await asyncio.wait_for(poll, 5)
    assert response.status == 200 and (await response.json())["seq"] == 3


async def test_a_long_poll_after_a_seq_that_times_out_answers_the_latest_or_304(
    client: Client, monitor: Monitor,
) -> None:
    await monitor.sampler.sample_once()
    started = time.monotonic()
    response = await client.get("/api/performance?after=1&wait=0.3")
    assert response.status == 200 and (await response.json())["seq"] == 1  # no ETag: the sample
    assert 0.25 <= time.monotonic() - started < 3
    etag = response.headers["ETag"]
    again = await client.get("/api/performance?after=1&wait=0.3", headers={"If-None-Match": etag})
    assert again.status == 304
    plain = await asyncio.wait_for(client.get("/api/performance?after=7"), 5)  # no wait: no hold
    assert plain.status == 200 and (await plain.json())["seq"] == 1


@pytest.mark.parametrize("after", ["-1", "1.5", "abc", "", str(2**63)])
async def test_bad_after_is_400_naming_the_parameter(client: Client, monitor: Monitor, after: str) -> None:
    await monitor.sampler.sample_once()
    response = await client.get(f"/api/performance?after={after}&wait=1")
    await assert_json_error(response, 400, "'after'")


@pytest.mark.parametrize("wait", ["0", "-1", "61", "abc", "nan", "inf", ""])
async def test_bad_wait_is_400_naming_the_parameter(client: Client, monitor: Monitor, wait: str) -> None:
    await monitor.sampler.sample_once()
    response = await client.get(f"/api/performance?wait={wait}")
    await assert_json_error(response, 400, "'wait'", "60")


async def test_many_long_pollers_are_all_answered(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    polls = [asyncio.create_task(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}))
             for _ in range(50)]
    await parked(monitor, 50)
    await monitor.sampler.sample_once()
    responses = await asyncio.wait_for(asyncio.gather(*polls), 10)
    assert [r.status for r in responses] == [200] * 50


# --- /api/history -------------------------------------------------------------------------

async def publish(monitor: Monitor, count: int) -> None:
    for _ in range(count):
        await monitor.sampler.sample_once()


async def test_history_without_cursor_is_the_last_n(client: Client, monitor: Monitor) -> None:
    await publish(monitor, 5)
    body = await (await client.get("/api/history?limit=3")).json()
    assert body["series"]["seq"] == [3, 4, 5]
    assert body["latest_seq"] == 5 and body["instance_id"] == monitor.hub.instance_id
    assert body["truncated"] is False
    assert set(body["series"]) >= {"timestamp", "cpu_percent", "memory_percent", "swap_percent", "load_1",
                                   "disk_read_bytes_per_s", "disk_write_bytes_per_s",
                                   "net_sent_bytes_per_s", "net_recv_bytes_per_s",
                                   "per_cpu_percent"}
    assert all(len(v) == 3 for v in body["series"].values())


async def test_history_cursor_returns_only_new_points(client: Client, monitor: Monitor) -> None:
    await publish(monitor, 5)
    body = await (await client.get("/api/history?since=3")).json()
    assert body["series"]["seq"] == [4, 5]
    body = await (await client.get("/api/history?since=5")).json()
    assert body["series"]["seq"] == [] and body["latest_seq"] == 5
    body = await (await client.get("/api/history?since=1&limit=2")).json()
    assert body["series"]["seq"] == [2, 3]  # oldest first: the client pages forward


async def test_history_cursor_older_than_the_buffer_is_truncated(
    make_monitor: MakeMonitor, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    monitor = make_monitor(clock=time.time, history_size=10)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    await publish(monitor, 15)
    body = await (await client.get("/api/history?since=2")).json()
    assert body["truncated"] is True and body["series"]["seq"] == list(range(6, 16))
    body = await (await client.get("/api/history?since=5")).json()
    assert body["truncated"] is False and body["series"]["seq"] == list(range(6, 16))
    monitor.sampler.shutdown_worker()


async def test_history_long_poll_waits_for_new_points(client: Client, monitor: Monitor) -> None:
    await publish(monitor, 2)
    poll = asyncio.create_task(client.get("/api/history?since=2&wait=10"))
    await parked(monitor)
    assert not poll.done()
    await monitor.sampler.sample_once()
    body = await (await asyncio.wait_for(poll, 5)).json()
    assert body["series"]["seq"] == [3]


async def test_history_cursor_of_another_instance_answers_at_once(client: Client, monitor: Monitor) -> None:
    await publish(monitor, 2)
    response = await asyncio.wait_for(client.get("/api/history?since=500&wait=30"), 5)
    body = await response.json()
    assert body["series"]["seq"] == [] and body["latest_seq"] == 2


@pytest.mark.parametrize(("query", "name"), [
    ("since=-1", "since"), ("since=x", "since"), ("since=1.5", "since"),
    ("limit=0", "limit"), ("limit=3601", "limit"), ("limit=ten", "limit"), ("wait=100", "wait"),
])
async def test_history_bad_parameters(client: Client, query: str, name: str) -> None:
    await assert_json_error(await client.get(f"/api/history?{query}"), 400, f"'{name}'")


async def test_large_history_is_gzipped(client: Client, monitor: Monitor) -> None:
    await publish(monitor, 40)
    response = await client.get("/api/history", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"
    assert len((await response.json())["series"]["seq"]) == 40


# --- /api/processes -----------------------------------------------------------------------

async def test_processes_sorted_by_cpu_and_memory(
    client: Client, monitor: Monitor, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    monitor.sampler.prime()  # psutil needs two scans for per-process CPU
    await monitor.sampler.sample_once()
    body = await (await client.get("/api/processes")).json()
    assert [p["name"] for p in body["processes"]] == ["busy", "fat", "init"]
    assert body["count"] == 3 and body["sort"] == "cpu" and body["sampled_at"] > 0
    body = await (await client.get("/api/processes?sort=memory&limit=1")).json()
    assert [p["name"] for p in body["processes"]] == ["fat"]
    assert "cmdline" not in body["processes"][0] and "environ" not in body["processes"][0]


async def test_processes_limit_and_default(client: Client, monitor: Monitor, fake_ps: FakePsutil) -> None:
    fake_ps.procs = [proc_info(i, f"p{i}", cpu=float(i), mem=1.0) for i in range(1, 40)]
    await monitor.sampler.sample_once()
    assert len((await (await client.get("/api/processes")).json())["processes"]) == 10
    assert len((await (await client.get("/api/processes?limit=100")).json())["processes"]) == 39


async def test_processes_conditional_get(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    first = await client.get("/api/processes")
    again = await client.get("/api/processes", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304


async def test_a_gzip_answer_has_its_own_etag_and_says_it_varies(
    client: Client, monitor: Monitor, fake_ps: FakePsutil
) -> None:
    fake_ps.procs = [proc_info(i, f"process-{i}", cpu=float(i), mem=1.0) for i in range(1, 40)]
    await monitor.sampler.sample_once()
    plain = await client.get("/api/processes?limit=50", headers={"Accept-Encoding": "identity"})
    zipped = await client.get("/api/processes?limit=50", headers={"Accept-Encoding": "gzip"},
                              auto_decompress=False)
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert plain.headers["Vary"] == zipped.headers["Vary"] == "Accept-Encoding"
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    for etag in (plain.headers["ETag"], zipped.headers["ETag"]):
        assert (await client.get("/api/processes?limit=50", headers={"If-None-Match": etag})).status == 304


@pytest.mark.parametrize(("query", "words"), [
    ("sort=name", ("'sort'", "cpu|memory")), ("limit=0", ("'limit'", "100")), ("limit=101", ("'limit'",)),
])
async def test_processes_bad_parameters(client: Client, monitor: Monitor, query: str, words: tuple) -> None:
    await monitor.sampler.sample_once()
    await assert_json_error(await client.get(f"/api/processes?{query}"), 400, *words)


async def test_processes_before_first_scan_is_503(client: Client) -> None:
    await assert_json_error(await client.get("/api/processes"), 503)


# --- /api/health --------------------------------------------------------------------------

async def test_health_is_starting_then_ok(client: Client, monitor: Monitor) -> None:
    response = await client.get("/api/health")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "starting" and body["last_sample_age_seconds"] is None
    await publish(monitor, 2)
    response = await client.get("/api/health")
    body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["samples_in_memory"] == 2
    assert body["instance_id"] == monitor.hub.instance_id and body["version"]
    assert 0 <= body["last_sample_age_seconds"] < 3 and body["interval_seconds"] == 1.0
    assert body["uptime_seconds"] >= 0


async def test_health_is_stale_when_sampling_stopped(
    make_monitor: MakeMonitor, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    monitor = make_monitor(clock=lambda: time.time() - 10)  # the last sample is 10 s old
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    await monitor.sampler.sample_once()
    response = await client.get("/api/health")
    assert response.status == 503 and (await response.json())["status"] == "stale"
    monitor.sampler.shutdown_worker()


# --- errors and lifecycle -----------------------------------------------------------------

async def test_unknown_path_is_json_404(client: Client) -> None:
    await assert_json_error(await client.get("/api/nope"), 404, "/api/nope")


async def test_wrong_method_is_json_405_with_allow(client: Client) -> None:
    response = await client.post("/api/performance", data=b"x")
    await assert_json_error(response, 405, "POST", "GET")
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_every_other_method_is_405_on_every_endpoint(client: Client, method: str) -> None:
    for path in ("/api/performance", "/api/history", "/api/processes", "/api/health", "/"):
        response = await client.request(method, path)
        await assert_json_error(response, 405, method, path)
        assert response.headers["Allow"] == "GET, HEAD"


async def test_head_answers_headers_only(client: Client, monitor: Monitor) -> None:
    await monitor.sampler.sample_once()
    response = await client.head("/api/performance", headers={"Accept-Encoding": "identity"})
    assert response.status == 200 and response.headers["ETag"] == f'"{monitor.hub.instance_id}-1"'
    assert await response.read() == b""


@pytest.mark.parametrize("path", ["/api/performance/", "/apis", "/favicon.ico", "/api/../etc/passwd"])
async def test_other_paths_are_json_404_for_any_method(client: Client, path: str) -> None:
    for method in ("GET", "POST"):
        await assert_json_error(await client.request(method, path), 404, "no such endpoint")


async def test_index_lists_endpoints(client: Client) -> None:
    body = await (await client.get("/")).json()
    assert "/api/performance" in body["endpoints"] and body["name"] == "perfmon"


async def test_unexpected_error_is_json_500(
    client: Client, monitor: Monitor, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(since: int | None, limit: int) -> None:
        raise RuntimeError("a bug in the server, not bad input")

    monkeypatch.setattr(monitor.store, "read", broken)
    await assert_json_error(await client.get("/api/history"), 500, "server log")
    assert "unhandled error on GET /api/history" in caplog.text


async def test_shutdown_answers_long_pollers_quickly(
    make_monitor: MakeMonitor, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    monitor = make_monitor(clock=time.time)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor))  # with the sampling task
    etag = (await client.get("/api/performance?wait=5")).headers["ETag"]
    poll = asyncio.create_task(client.get("/api/performance?wait=60", headers={"If-None-Match": etag}))
    await parked(monitor)
    started = time.monotonic()
    await client.server.app.shutdown()  # what the runner does first on SIGTERM
    response = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 2
    await assert_json_error(response, 503, "shutting down")


async def test_the_real_sampling_task_publishes(
    make_monitor: MakeMonitor, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    monitor = make_monitor(clock=time.time, interval_seconds=0.1)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor))
    first = await (await client.get("/api/performance?wait=5")).json()
    etag = f'"{first["instance_id"]}-{first["seq"]}"'
    later = await (await client.get("/api/performance?wait=5", headers={"If-None-Match": etag})).json()
    assert later["seq"] > first["seq"]


# --- the long-poll cap ---------------------------------------------------------------------

async def test_long_polls_beyond_max_waiters_get_503_with_retry_after(
    make_monitor: MakeMonitor, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    monitor = make_monitor(clock=time.time, max_waiters=2)
    client = await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    await monitor.sampler.sample_once()
    etag = (await client.get("/api/performance")).headers["ETag"]
    polls = [asyncio.create_task(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}))
             for _ in range(2)]
    await parked(monitor, 2)
    refused = await client.get("/api/history?since=1&wait=10")
    await assert_json_error(refused, 503, "--max-waiters 2")
    assert refused.headers["Retry-After"] == "1"
    await monitor.sampler.sample_once()
    assert [r.status for r in await asyncio.wait_for(asyncio.gather(*polls), 5)] == [200, 200]
    again = await asyncio.wait_for(client.get("/api/performance?wait=10", headers={"If-None-Match": etag}), 5)
    assert again.status == 200  # a stale tag is answered at once, never counted
    monitor.sampler.shutdown_worker()
