"""/api/history beyond the cursor: time ranges, CSV, strict parameters, the store in /api/health."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from perfmon.api.app import Monitor, create_app
from tests.support.fakes import FakeClock, FakePsutil

Client = TestClient[web.Request, web.Application]
T0 = 1_700_000_000.0  # the fake wall clock's start (tests/conftest.py)


@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor]) -> Monitor:
    return make_monitor()


@pytest.fixture
async def client(aiohttp_client: Callable[[web.Application], Awaitable[Client]],
                 monitor: Monitor) -> AsyncIterator[Client]:
    yield await aiohttp_client(create_app(monitor.config, monitor=monitor, sample=False))
    monitor.sampler.shutdown_worker()


async def publish(monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil, cpu: list[float]) -> None:
    """One sample per value, a second apart, with that CPU percent."""
    for value in cpu:
        fake_ps.cpu_total = value
        await monitor.sampler.sample_once()
        wall.advance(1.0)


async def error(response: object) -> str:
    assert response.status == 400  # type: ignore[attr-defined]
    return str((await response.json())["error"]["message"])  # type: ignore[attr-defined]


async def test_a_range_is_grouped_into_equal_buckets_with_min_mean_max(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10, 20, 30, 40, 50, 60])
    body = await (await client.get(f"/api/history?start={T0:.0f}&end={T0 + 6:.0f}&points=3")).json()
    assert body["tier"] == "raw" and body["resolution_seconds"] == 2.0
    assert body["start"] == T0 and body["end"] == T0 + 6 and body["instance_id"] == monitor.hub.instance_id
    series = body["series"]
    assert series["timestamp"] == [T0, T0 + 2, T0 + 4]
    assert series["cpu_percent"] == [15.0, 35.0, 55.0]
    assert series["cpu_percent_min"] == [10.0, 30.0, 50.0]
    assert series["cpu_percent_max"] == [20.0, 40.0, 60.0]
    assert series["per_cpu_percent"] == [[20.0, 30.0]] * 3


async def test_buckets_without_samples_are_null_never_interpolated(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10])
    wall.advance(3.0)  # the server "was down" for 3 s
    await publish(monitor, wall, fake_ps, [30])
    body = await (await client.get(f"/api/history?start={T0:.0f}&end={T0 + 6:.0f}&points=6")).json()
    assert body["series"]["cpu_percent"] == [10.0, None, None, None, 30.0, None]
    assert body["series"]["per_cpu_percent"][1] is None


async def test_a_range_before_any_data_is_an_empty_honest_answer(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10])
    body = await (await client.get("/api/history?start=1000&end=2000&points=4")).json()
    assert body["series"]["cpu_percent"] == [None] * 4 and len(body["series"]["timestamp"]) == 4


async def test_end_defaults_to_now_and_points_to_1000(client: Client) -> None:
    body = await (await client.get("/api/history?start=1")).json()
    assert body["start"] == 1 and body["end"] > 1_700_000_000
    assert len(body["series"]["timestamp"]) <= 1000


async def test_a_range_as_csv_has_a_header_row_and_a_column_per_cpu(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10, 20])
    response = await client.get(f"/api/history?start={T0:.0f}&end={T0 + 2:.0f}&points=2&format=csv")
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    header = rows[0]
    assert header[0] == "timestamp" and {"cpu_percent", "cpu_percent_min", "cpu_percent_max"} <= set(header)
    assert "per_cpu_percent_0" in header and "per_cpu_percent_1" in header
    assert [row[header.index("cpu_percent")] for row in rows[1:]] == ["10.0", "20.0"]


async def test_the_live_tail_as_csv(client: Client, monitor: Monitor, wall: FakeClock,
                                    fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10, 20, 30])
    response = await client.get("/api/history?since=1&format=csv")
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:2] == ["seq", "timestamp"] and [row[0] for row in rows[1:]] == ["2", "3"]


@pytest.mark.parametrize(("query", "name"), [
    ("start=10&end=5", "start"), ("start=10&end=10", "start"), ("start=abc", "start"),
    ("start=-5", "start"), ("start=1e9", "start"), ("start=nan", "start"), ("start=5000000000", "start"),
    ("start=1&end=x", "end"), ("start=1&points=0", "points"), ("start=1&points=10001", "points"),
    ("start=1&points=1.5", "points"), ("end=5", "end"), ("points=5", "points"),
    ("start=1&since=3", "since"), ("start=1&limit=3", "limit"), ("start=1&wait=3", "wait"),
    ("start=1&format=xml", "format"),
])
async def test_bad_range_parameters_are_400_naming_them(client: Client, query: str, name: str) -> None:
    assert f"'{name}'" in await error(await client.get(f"/api/history?{query}"))


@pytest.mark.parametrize(("query", "message"), [
    ("start=abc", r"parameter 'start' must be a number from 0 to 4102444800, got 'abc'"),
    ("start=1700000000.123456&end=1700000000.1",
     r"parameter 'start' must be before 'end' \(1700000000\.1\), got 1700000000\.123456"),
    ("start=4000000000", r"parameter 'start' must be before 'end' \(\d{10}(\.\d+)?\), got 4000000000"),  # now
])
async def test_numbers_in_messages_are_as_typed(client: Client, query: str, message: str) -> None:
    assert re.fullmatch(message, await error(await client.get(f"/api/history?{query}")))


@pytest.mark.parametrize("query", [
    "limit=5_0", "limit=%EF%BC%91", "limit=%D9%A3", "since=+1", "since=%201", "wait=1e1", "limit=" + "9" * 40,
])
async def test_numbers_are_ascii_digits_only(client: Client, query: str) -> None:
    message = await error(await client.get(f"/api/performance?{query}" if "wait" in query
                                           else f"/api/history?{query}"))
    assert "must be a" in message


@pytest.mark.parametrize(("path", "name"), [
    ("/api/history?limit=1&limit=2", "limit"), ("/api/history?start=1&start=2", "start"),
    ("/api/processes?sort=cpu&sort=memory", "sort"), ("/api/performance?wait=1&wait=2", "wait"),
])
async def test_a_repeated_parameter_is_400_naming_it(client: Client, path: str, name: str) -> None:
    assert f"'{name}' is given 2 times" in await error(await client.get(path))


async def test_limit_may_reach_3600_whatever_the_memory_holds(
        client: Client, monitor: Monitor, wall: FakeClock, fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10])
    assert (await client.get("/api/history?limit=3600")).status == 200
    assert "3600" in await error(await client.get("/api/history?limit=3601"))


async def test_health_says_where_history_is_kept(client: Client, monitor: Monitor, wall: FakeClock,
                                                 fake_ps: FakePsutil) -> None:
    await publish(monitor, wall, fake_ps, [10])
    body = await (await client.get("/api/health")).json()
    assert body["store"] == {"path": None, "size_bytes": None, "oldest_timestamp": T0, "status": "memory",
                             "error": None, "salvaged": None}
