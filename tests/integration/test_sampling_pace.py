"""The sampler's own thread keeps the time and hands each sample to the event loop (real threads, real time).

Nothing here measures time: each test waits for a condition (samples published, the thread gone).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from perfmon.api.app import Monitor
from perfmon.sampling.snapshot import Snapshot

MakeMonitor = Callable[..., Monitor]
INTERVAL = 0.05


async def published(monitor: Monitor, count: int, timeout: float = 10.0) -> list[tuple[int, int]]:
    """Wait for ``count`` more publications: each one's seq and the thread it ran in."""
    seen: list[tuple[int, int]] = []
    done = asyncio.Event()

    def on_publish(snapshot: Snapshot, *_: Any) -> None:
        seen.append((snapshot.seq, threading.get_ident()))
        if len(seen) >= count:
            done.set()

    monitor.hub.on_publish.append(on_publish)
    try:
        async with asyncio.timeout(timeout):
            await done.wait()
    finally:
        monitor.hub.on_publish.remove(on_publish)
    return seen


def thread_ended(monitor: Monitor) -> bool:
    """Whether the sampler's thread is gone (after shutdown_worker joined it)."""
    return monitor.sampler._executor is None and not any(
        t.name.startswith("perfmon-sampler") for t in threading.enumerate())


async def test_samples_are_published_in_order_on_the_loops_thread(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor(interval_seconds=INTERVAL)
    task = asyncio.create_task(monitor.sampler.run())
    seen = await published(monitor, 5)
    assert {thread for _, thread in seen} == {threading.get_ident()}  # the loop's: readers see it at once
    seqs = [seq for seq, _ in seen]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    monitor.sampler.close()
    await asyncio.wait_for(task, 10)
    await asyncio.get_running_loop().run_in_executor(None, monitor.sampler.shutdown_worker)
    assert thread_ended(monitor)


async def test_a_cancelled_run_ends_its_thread(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor(interval_seconds=INTERVAL)
    task = asyncio.create_task(monitor.sampler.run())
    await published(monitor, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.get_running_loop().run_in_executor(None, monitor.sampler.shutdown_worker)
    assert thread_ended(monitor)
    last = monitor.hub.latest
    await asyncio.sleep(0)  # a publication handed over before the end runs now, none after it
    assert monitor.hub.latest is last


async def test_a_failed_sample_or_publication_is_logged_and_sampling_goes_on(
        make_monitor: MakeMonitor, caplog: pytest.LogCaptureFixture) -> None:
    monitor = make_monitor(interval_seconds=INTERVAL)
    sampler = monitor.sampler
    real_collect, real_keep = sampler.collect, sampler._keep
    failures = {"collect": 1, "keep": 1}

    def collect() -> Any:
        if failures["collect"]:
            failures["collect"] -= 1
            raise OSError("collect failed once")
        return real_collect()

    def keep(sample: Any) -> object:
        if failures["keep"]:
            failures["keep"] -= 1
            raise RuntimeError("keep failed once")
        return real_keep(sample)

    sampler.collect, sampler._keep = collect, keep  # type: ignore[method-assign]
    caplog.set_level(logging.ERROR, logger="perfmon.sampling.sampler")
    task = asyncio.create_task(sampler.run())
    await published(monitor, 3)
    sampler.close()
    await asyncio.wait_for(task, 10)
    await asyncio.get_running_loop().run_in_executor(None, sampler.shutdown_worker)
    failed = [r for r in caplog.records if r.getMessage() == "sampling failed"]
    assert [str(r.exc_info[1]) for r in failed if r.exc_info] == ["collect failed once", "keep failed once"]
