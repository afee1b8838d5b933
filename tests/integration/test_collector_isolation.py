"""Collectors in lanes: a hung one costs no other field and no sample, and recovers.

Real threads: the hung collector blocks on an Event until the test releases it (at teardown too).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from perfmon.sampling import registry
from perfmon.sampling.collectors import SensorsCollector
from perfmon.sampling.collectors.base import Note
from perfmon.sampling.hub import Hub
from perfmon.sampling.registry import Scheduled, Sources
from perfmon.sampling.sampler import Sampler
from perfmon.sampling.snapshot import Snapshot
from tests.support.fakes import FakePsutil

INTERVAL = 0.4
TIMEOUT = 1.0  # longer than two intervals: a sample never waits that long


class Hanging:
    """The sensors collector, which blocks in a real call while ``hang`` is set, until ``release``."""

    name = "sensors"
    section = "sensors"

    def __init__(self, ps: FakePsutil) -> None:
        self._inner = SensorsCollector(ps)  # type: ignore[arg-type]
        self.hang, self.release = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self.calls = self.running = self.most_at_once = 0

    def collect(self, note: Note) -> Any:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hang.is_set():
                self.release.wait()
            return self._inner.collect(note)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
async def hanging_sampler(fake_ps: FakePsutil) -> AsyncIterator[tuple[Sampler, Hanging]]:
    hanging = Hanging(fake_ps)
    enabled = registry.enabled_names(("-sensors",))
    others = registry.build(Sources(fake_ps, whole_disk=lambda _: True), enabled)
    sampler = Sampler(Hub(INTERVAL), collectors=[*others, Scheduled(hanging, None, TIMEOUT)])
    task = asyncio.create_task(sampler.run())
    try:
        yield sampler, hanging
    finally:
        hanging.release.set()
        sampler.close()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sampler.shutdown_worker()


async def next_sample(hub: Hub, after: int | None) -> Snapshot:
    """The first sample after ``after``; fails if none comes within a few intervals."""
    snapshot = await hub.wait_for_sample(after, 10 * INTERVAL + TIMEOUT)
    assert snapshot is not None, f"no sample after seq {after}: sampling stalled"
    return snapshot


def sensor_errors(snapshot: Snapshot) -> list[str]:
    return [e["message"] for e in snapshot.data["errors"] if e["collector"] == "sensors"]


def others_filled(data: dict[str, Any]) -> bool:
    return (data["cpu"]["percent"] == 25.0 and data["memory"]["percent"] == 25.0
            and data["disks"][0]["mountpoint"] == "/" and data["processes"]["count"] == 3)


async def test_a_hung_collector_costs_no_sample_and_no_other_field_then_recovers(
    hanging_sampler: tuple[Sampler, Hanging], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="perfmon.sampling.sampler")
    sampler, hanging = hanging_sampler
    hub = sampler.hub
    snapshot = await next_sample(hub, None)
    assert snapshot.data["sensors"]["temperatures"] is not None and others_filled(snapshot.data)

    hanging.hang.set()
    calls_before = hanging.calls
    hung: list[Snapshot] = []
    while len(hung) < 4:  # samples keep coming: four after the timeout, the call still blocked
        snapshot = await next_sample(hub, snapshot.seq)
        if any(m.startswith(f"timed out after {TIMEOUT:g} s") for m in sensor_errors(snapshot)):
            hung.append(snapshot)
    for sample in hung:
        assert sample.data["sensors"]["temperatures"] is None
        assert others_filled(sample.data), sample.data
    assert [s.seq for s in hung] == list(range(hung[0].seq, hung[0].seq + 4))  # none skipped
    assert any("not started again" in m for m in sensor_errors(hung[-1]))
    assert hanging.calls == calls_before + 1 and hanging.most_at_once == 1  # never two runs at once
    # the others run in one thread of their own: the hung call holds one, none is made per sample
    assert sampler.crew.threads_made == 2
    status = hub.collectors["sensors"]
    assert status["last_success"] is False and status["last_error"] == f"timed out after {TIMEOUT:g} s"
    assert status["last_duration_seconds"] >= TIMEOUT
    assert hub.collectors["cpu"]["last_success"] is True
    assert not [r for r in caplog.records if "overran" in r.getMessage()]  # every tick on its deadline

    hanging.hang.clear()
    hanging.release.set()
    while sensor_errors(snapshot) or snapshot.data["sensors"]["temperatures"] is None:
        snapshot = await next_sample(hub, snapshot.seq)  # tried again on its cadence: it recovers
    assert snapshot.data["sensors"]["temperatures"][0]["current_celsius"] == 45.0
    assert hub.collectors["sensors"]["last_success"] is True


class Slow:
    """A collector slower than a sample's wait, but well within its timeout."""

    name = "sensors"
    section = "sensors"

    def __init__(self) -> None:
        self.release = threading.Event()

    def collect(self, note: Note) -> Any:
        self.release.wait()
        return {"temperatures": []}


async def test_a_run_still_going_shows_no_made_up_value_and_says_so(fake_ps: FakePsutil) -> None:
    slow = Slow()
    others = registry.build(Sources(fake_ps, whole_disk=lambda _: True), {"cpu"})
    sampler = Sampler(Hub(0.2), collectors=[*others, Scheduled(slow, None, 30.0)])
    try:
        sampler.prime()  # as Sampler.run does: the CPU shares of the first sample are real
        first = await sampler.sample_once()
        assert first.data["sensors"]["temperatures"] is None and first.data["cpu"]["percent"] == 25.0
        (said,) = [e["message"] for e in first.data["errors"] if e["collector"] == "sensors"]
        assert said.startswith("still running after") and said.endswith("no value yet")
        slow.release.set()
        while (await sampler.sample_once()).data["sensors"]["temperatures"] is None:
            pass
    finally:
        slow.release.set()
        sampler.shutdown_worker()
