"""The hub: what was published, and long-poll waiters woken once per sample."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from perfmon.api.app import Monitor
from perfmon.sampling.hub import Hub, ShuttingDown

MakeMonitor = Callable[..., Monitor]


async def parked(hub: Hub, count: int = 1) -> None:
    async with asyncio.timeout(5):
        while hub.waiters < count:
            await asyncio.sleep(0)


async def test_waiters_wake_on_the_next_sample_only(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor()
    await monitor.sampler.sample_once()
    waiters = [asyncio.create_task(monitor.hub.wait_for_sample(1, 5.0)) for _ in range(100)]
    await parked(monitor.hub, 100)
    assert not any(w.done() for w in waiters)
    await monitor.sampler.sample_once()
    results = await asyncio.gather(*waiters)
    assert {r.seq for r in results if r} == {2} and all(results)
    assert monitor.hub.waiters == 0
    monitor.sampler.shutdown_worker()


async def test_waiting_times_out_with_none(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor()
    await monitor.sampler.sample_once()
    assert await monitor.hub.wait_for_sample(1, 0.05) is None
    assert monitor.hub.waiters == 0
    monitor.sampler.shutdown_worker()


async def test_a_newer_sample_is_answered_without_waiting(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor()
    await monitor.sampler.sample_once()
    await monitor.sampler.sample_once()
    snapshot = await asyncio.wait_for(monitor.hub.wait_for_sample(1, 30.0), 1)
    assert snapshot is not None and snapshot.seq == 2
    monitor.sampler.shutdown_worker()


async def test_close_releases_waiters(make_monitor: MakeMonitor) -> None:
    hub = make_monitor().hub
    waiter = asyncio.create_task(hub.wait_for_sample(None, 30.0))
    await parked(hub)
    hub.close()
    with pytest.raises(ShuttingDown):
        await asyncio.wait_for(waiter, 1.0)
    assert hub.closed and hub.waiters == 0


def test_instances_get_their_own_ids() -> None:
    assert Hub(1.0).instance_id != Hub(1.0).instance_id
