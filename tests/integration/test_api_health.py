"""GET /api/health over HTTP: the polls of one millisecond share an answer, and nothing newer is missed."""

from __future__ import annotations

import json
import time
import types
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from perfmon.api.app import Monitor, create_app
from perfmon.api.endpoints import health as health_module

Client = TestClient[web.Request, web.Application]


class Wall:
    """The handler's clock, set by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def monitor(make_monitor: Callable[..., Monitor]) -> Monitor:
    return make_monitor(clock=time.time)


@pytest.fixture
async def client(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]], monitor: Monitor
) -> Client:
    app = create_app(monitor.config, monitor=monitor, sample=False)
    yield await aiohttp_client(app)
    monitor.sampler.shutdown_worker()


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> Wall:
    """A clock 0.1 ms into a millisecond, now."""
    clock = Wall(int(time.time() * 1000) / 1000 + 0.0001)
    monkeypatch.setattr(health_module, "time", types.SimpleNamespace(time=clock.time))
    return clock


async def fetch(client: Client) -> bytes:
    response = await client.get("/api/health")
    assert response.status == 200
    return await response.read()


async def test_one_millisecond_shares_an_answer_with_the_numbers_of_its_start(
    client: Client, monitor: Monitor, wall: Wall
) -> None:
    await monitor.sampler.sample_once()
    first = await fetch(client)
    wall.now += 0.0008  # the same millisecond
    assert await fetch(client) == first
    millisecond = int(wall.now * 1000) / 1000
    assert json.loads(first)["uptime_seconds"] == round(millisecond - monitor.hub.started_at, 3)
    wall.now += 0.0002  # the next one
    later = json.loads(await fetch(client))
    assert later["uptime_seconds"] == round(millisecond + 0.001 - monitor.hub.started_at, 3)
    assert later["uptime_seconds"] > json.loads(first)["uptime_seconds"]


async def test_a_sample_or_a_long_poll_in_the_same_millisecond_makes_a_new_answer(
    client: Client, monitor: Monitor, wall: Wall
) -> None:
    await monitor.sampler.sample_once()
    first = json.loads(await fetch(client))
    await monitor.sampler.sample_once()
    second = json.loads(await fetch(client))
    assert (first["latest_seq"], second["latest_seq"]) == (1, 2)
    assert (first["samples_in_memory"], second["samples_in_memory"]) == (1, 2)
    monitor.hub.waiters += 3  # as three parked long-polls count themselves
    assert json.loads(await fetch(client))["long_poll_waiters"] == 3
    monitor.hub.waiters -= 3
    assert json.loads(await fetch(client)) == second
