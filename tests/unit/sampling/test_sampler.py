"""The sampler: sample shape, rates across samples, failure isolation, serialisation, cadence."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import psutil
import pytest

from perfmon.api.app import Monitor
from perfmon.core.schema import HISTORY_COLUMNS, empty_sample
from perfmon.sampling.sampler import Cadence, Sampler
from perfmon.sampling.snapshot import compressed
from tests.support.fakes import DiskIO, FakeClock, FakePsutil, NetIO

MakeMonitor = Callable[..., Monitor]
MakeSampler = Callable[..., Sampler]


@pytest.fixture
def make_sampler(make_monitor: MakeMonitor) -> MakeSampler:
    """A Sampler over the fake psutil, for tests that need neither its hub nor its store."""
    return lambda **settings: make_monitor(**settings).sampler


def test_sample_has_the_full_shape(make_sampler: MakeSampler) -> None:
    snapshot, table = make_sampler().collect()
    data = json.loads(snapshot.body)
    assert data.keys() == empty_sample().keys()
    for section in ("host", "cpu", "memory", "swap", "disk_io", "network", "processes", "sensors"):
        assert data[section].keys() == empty_sample()[section].keys(), section
    assert data["seq"] == 1 and data["interval_seconds"] == 1.0
    assert data["errors"] == []
    assert table is not None and data["processes"]["count"] == 3


def test_first_sample_has_null_rates_then_real_ones(
    make_sampler: MakeSampler, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    sampler = make_sampler()
    first = sampler.collect()[0].data
    assert first["disk_io"]["read_bytes_per_s"] is None
    assert first["network"]["recv_bytes_per_s"] is None
    fake_ps.disks = {"sda": DiskIO(100, 50, 1_500_000, 500_000)}
    fake_ps.nics = {**fake_ps.nics, "eth0": NetIO(10_000, 24_000, 0, 0)}
    mono.advance(0.5)
    second = sampler.collect()[0].data
    assert second["seq"] == 2
    assert second["disk_io"]["read_bytes_per_s"] == 1_000_000.0  # 500 kB over 0.5 s of real time
    assert second["disk_io"]["write_bytes_per_s"] == 0.0
    assert second["network"]["recv_bytes_per_s"] == 8000.0


def test_counter_reset_never_yields_a_negative_rate(
    make_sampler: MakeSampler, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    sampler = make_sampler()
    sampler.collect()
    fake_ps.nics = {**fake_ps.nics, "eth0": NetIO(1, 1, 0, 0)}
    mono.advance(1)
    data = sampler.collect()[0].data
    assert data["network"]["sent_bytes_per_s"] is None
    assert any(e["collector"] == "network" and "backwards" in e["message"] for e in data["errors"])


def test_a_failing_collector_leaves_its_fields_null_and_others_work(
    make_sampler: MakeSampler, fake_ps: FakePsutil
) -> None:
    fake_ps.failures["virtual_memory"] = psutil.AccessDenied()
    data = make_sampler().collect()[0].data
    assert set(data["memory"].values()) == {None}
    assert {"collector": "memory",
            "message": "access denied (the server's user may not read this)"} in data["errors"]
    assert data["cpu"]["percent"] == 25.0 and data["swap"]["total_bytes"] == 2 * 2**30


def test_a_failing_list_collector_is_null_not_empty(make_sampler: MakeSampler, fake_ps: FakePsutil) -> None:
    fake_ps.failures["disk_partitions"] = OSError(5, "Input/output error")
    data = make_sampler().collect()[0].data
    assert data["disks"] is None
    assert data["errors"] == [{"collector": "disks", "message": "OSError: [Errno 5] Input/output error"}]


def test_persistent_failure_is_logged_once_and_recovery_once(
    make_sampler: MakeSampler, fake_ps: FakePsutil, mono: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="perfmon.sampling.sampler")
    sampler = make_sampler()
    fake_ps.failures["getloadavg"] = OSError("no /proc/loadavg")
    for _ in range(5):
        sampler.collect()
        mono.advance(1)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "load_average" in warnings[0].getMessage()
    del fake_ps.failures["getloadavg"]
    sampler.collect()
    mono.advance(1)
    sampler.collect()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [
        "collector load_average recovered"
    ]


def test_process_scan_failure_is_reported_in_every_sample(
    make_sampler: MakeSampler, fake_ps: FakePsutil
) -> None:
    fake_ps.failures["process_iter"] = RuntimeError("boom")
    sampler = make_sampler()
    snapshot, table = sampler.collect()
    sampler.publish(snapshot, table)
    assert snapshot.data["processes"]["count"] is None
    assert {"collector": "processes", "message": "RuntimeError: boom"} in snapshot.data["errors"]
    later = sampler.collect()[0].data  # no new scan is due, the failed one still stands
    assert {"collector": "processes", "message": "RuntimeError: boom"} in later["errors"]


def test_processes_are_scanned_on_their_own_cadence(
    make_sampler: MakeSampler, fake_ps: FakePsutil, mono: FakeClock
) -> None:
    sampler = make_sampler(process_interval_seconds=5.0)
    sampler.prime()
    scans_after_prime = fake_ps.calls["process_iter"]
    for _ in range(5):
        snapshot, table = sampler.collect()
        sampler.publish(snapshot, table)
        mono.advance(1.0)
    # the first sample needs a table; the next scan is due 5 s after it
    assert fake_ps.calls["process_iter"] - scans_after_prime == 1
    mono.advance(1.0)
    sampler.publish(*sampler.collect())
    assert fake_ps.calls["process_iter"] - scans_after_prime == 2
    assert fake_ps.calls["cpu_times"] >= 12  # the system-wide groups ran every time (two reads a sample)


def test_serialised_once_with_gzip_and_etag(make_sampler: MakeSampler,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sampler = make_sampler()
    compressions: list[int] = []
    real = gzip.compress

    def counted(data: bytes, *args: Any, **kwargs: Any) -> bytes:
        compressions.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(gzip, "compress", counted)
    snapshot = sampler.collect()[0]
    assert snapshot.etag == f"{sampler.hub.instance_id}-1"
    assert json.loads(snapshot.body) == snapshot.data
    assert compressions == []  # the sampler does not compress: the first request that wants gzip does
    assert snapshot.body_gzip is not None and gzip.decompress(snapshot.body_gzip) == snapshot.body
    assert len(snapshot.body_gzip) < len(snapshot.body)
    assert snapshot.body_gzip is snapshot.body_gzip and compressions == [len(snapshot.body)]  # once


def test_a_small_body_has_no_gzip_bytes() -> None:
    assert compressed(b"{}" * 100) is None  # under 1 KiB: not worth a header
    assert compressed(os.urandom(4096)) is None  # would not shrink
    packed = compressed(b'{"a":1}' * 400)
    assert packed is not None and gzip.decompress(packed) == b'{"a":1}' * 400


def test_instances_never_share_etags(make_sampler: MakeSampler) -> None:
    assert make_sampler().collect()[0].etag != make_sampler().collect()[0].etag


def test_non_finite_numbers_become_null(make_sampler: MakeSampler, fake_ps: FakePsutil) -> None:
    fake_ps.memory = fake_ps.memory._replace(percent=float("nan"))
    data = json.loads(make_sampler().collect()[0].body)
    assert data["memory"]["percent"] is None
    assert data["errors"][-1]["collector"] == "sampler"


def test_history_rows_follow_the_columns(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor()
    monitor.sampler.publish(*monitor.sampler.collect())
    row = monitor.store.read(None, 1).rows[0]
    assert dict(zip(HISTORY_COLUMNS, row, strict=True)) == {
        "seq": 1, "timestamp": 1_700_000_000.0, "cpu_percent": 25.0, "memory_percent": 25.0,
        "swap_percent": 50.0, "load_1": 0.5, "disk_read_bytes_per_s": None,
        "disk_write_bytes_per_s": None, "net_sent_bytes_per_s": None, "net_recv_bytes_per_s": None,
        "per_cpu_percent": [20.0, 30.0],
    }


def test_history_memory_is_bounded(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor(history_size=10)
    for _ in range(25):
        monitor.sampler.publish(*monitor.sampler.collect())
    assert len(monitor.store) == 10
    assert monitor.store.first_seq == 16 and monitor.store.latest_seq == 25


def test_a_published_sample_is_kept_before_readers_wake(make_monitor: MakeMonitor) -> None:
    monitor = make_monitor()
    seen: list[int | None] = []
    monitor.hub.publish = lambda snapshot, table=None: seen.append(monitor.store.latest_seq)  # type: ignore
    monitor.sampler.publish(*monitor.sampler.collect())
    assert seen == [1]  # a history long-poll woken by the hub finds the new row


@pytest.mark.parametrize(("now", "missed", "deadline"), [
    (10.5, 0, 11.0),  # on time: the next tick
    (11.0, 0, 11.0),  # exactly at the next tick: take it
    (11.2, 1, 12.0),  # overran one tick: skip it, no catch-up burst
    (13.5, 3, 14.0),  # overran three
])
def test_cadence_skips_the_ticks_an_overrun_missed(now: float, missed: int, deadline: float) -> None:
    cadence = Cadence(1.0, 10.0)
    assert cadence.advance(now) == missed
    assert cadence.deadline == deadline


class FakeLoopTime:
    """A clock that moves only when the sampler waits or a collector takes time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept_until: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.now += seconds
        self.slept_until.append(round(self.now, 6))
        time.sleep(0.001)  # the sampler's thread lets the loop run; stopping is the sampler's own event
        return False


async def test_run_keeps_a_fixed_cadence_and_skips_what_an_overrun_missed(
    make_monitor: MakeMonitor, fake_ps: FakePsutil
) -> None:
    time_ = FakeLoopTime()
    monitor = make_monitor(interval_seconds=1.0)
    slow_call = {3: 2.5}  # the third sample takes 2.5 intervals
    real_cpu_times = fake_ps.cpu_times

    def cpu_times(percpu: bool = False) -> object:
        if not percpu:
            time_.now += slow_call.pop(monitor.sampler._seq, 0.0)
        return real_cpu_times(percpu)

    fake_ps.cpu_times = cpu_times  # type: ignore[method-assign]
    task = asyncio.create_task(monitor.sampler.run(now=lambda: time_.now, wait=time_.wait))
    async with asyncio.timeout(5):
        while monitor.hub.latest is None or monitor.hub.latest.seq < 6:
            await asyncio.sleep(0)
    monitor.sampler.close()
    await task
    monitor.sampler.shutdown_worker()
    # Deadlines 1, 2, 3; sample 3 ends at 5.5, so 4 and 5 are skipped: next 6, 7, 8, never a burst.
    assert time_.slept_until[:6] == [1.0, 2.0, 3.0, 6.0, 7.0, 8.0]


def test_memory_stays_flat_once_the_buffer_is_full(make_monitor: MakeMonitor, mono: FakeClock) -> None:
    import gc
    import tracemalloc

    monitor = make_monitor(history_size=50)
    sampler = monitor.sampler

    def run(cycles: int) -> None:
        for _ in range(cycles):
            sampler.publish(*sampler.collect())
            mono.advance(1.0)

    run(200)  # fill the ring buffer and every cache
    gc.collect()
    tracemalloc.start()
    try:
        run(100)  # tracemalloc's own first allocations land here, not in the window measured
        gc.collect()
        before = tracemalloc.take_snapshot()
        run(500)  # about 8 minutes of sampling at 1 s: measured 1.6 KB, so a leak of 21 B a sample fails
        gc.collect()
        growth = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    finally:
        tracemalloc.stop()
    assert growth < 12 * 1024, f"memory grew by {growth} bytes over 500 samples"
    assert len(monitor.store) == 50
