"""The SQLite history store (perfmon/store/sqlite*.py, tiers.py) on real files: roll-ups against
hand-computed values, range reads from each tier, cursor reads, restarts and their gaps, size."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perfmon.core.schema import empty_sample
from perfmon.store.base import Retention
from perfmon.store.ring import RingStore
from perfmon.store.sqlite.store import SqliteStore
from tests.conftest import STORE_T0 as T0  # on the hour: minutes and hours start at T0 + k * 60
from tests.support.fakes import FakeClock

MakeStore = Callable[..., SqliteStore]


def sample(seq: int, t: float, cpu: float | None = 10.0, cores: list[float | None] | None = None,
           **values: Any) -> dict[str, Any]:
    """A sample at ``t``: CPU and per-CPU as given, other history fields from ``values`` (or null)."""
    s = empty_sample()
    s.update(seq=seq, timestamp=t)
    s["cpu"]["percent"] = cpu
    s["cpu"]["per_cpu_percent"] = [cpu, cpu] if cores is None and cpu is not None else cores
    s["cpu"]["load_average"] = [values["load_1"], 0.0, 0.0] if "load_1" in values else None
    s["memory"]["percent"] = values.get("memory_percent")
    s["swap"]["percent"] = values.get("swap_percent")
    s["disk_io"]["read_bytes_per_s"] = values.get("disk_read_bytes_per_s")
    s["disk_io"]["write_bytes_per_s"] = values.get("disk_write_bytes_per_s")
    s["network"]["sent_bytes_per_s"] = values.get("net_sent_bytes_per_s")
    s["network"]["recv_bytes_per_s"] = values.get("net_recv_bytes_per_s")
    return s


def fill(store: SqliteStore, clock: FakeClock, times: list[float], first_seq: int = 1,
         **values: Any) -> None:
    """Append one sample (cpu = its index mod 100) at each time, the clock following."""
    for k, t in enumerate(times):
        clock.now = t
        store.append(sample(first_seq + k, t, float(k % 100), **values))


def database(store: SqliteStore) -> sqlite3.Connection:
    return sqlite3.connect(store.path)


def test_a_finished_minute_is_rolled_up_with_min_mean_max_and_per_cpu_means(
        make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    readings = [(10.0, [10.0, 20.0], None), (20.5, [30.0, None], 50.0), (None, [50.0, 60.0], 70.0)]
    for seq, (cpu, cores, swap) in enumerate(readings, 1):
        store.append(sample(seq, T0 + seq * 10, cpu, cores, swap_percent=swap))
    store.append(sample(4, T0 + 61, 99.0, [99.0, 99.0]))  # a new minute: the first one is finished
    assert store.flush()
    with database(store) as conn:
        row = conn.execute("SELECT n, cpu_percent_min, cpu_percent_max, cpu_percent_sum, cpu_percent_n, "
                           "swap_percent_sum, swap_percent_n, per_cpu_percent_n, memory_percent_n "
                           "FROM minute WHERE t = ?", (int(T0),)).fetchone()
    assert row == (3, 100, 205, 305, 2, 1200, 2, 2, 0)  # tenths of a percent; a null is not counted
    series = store.read_range(T0, T0 + 60, 1).series
    assert (series["cpu_percent"], series["cpu_percent_min"], series["cpu_percent_max"]) == ([15.25], [10.0],
                                                                                           [20.5])
    assert series["swap_percent"] == [60.0] and series["memory_percent"] == [None]
    assert series["memory_percent_min"] == [None] and series["memory_percent_max"] == [None]
    assert series["per_cpu_percent"] == [[30.0, 40.0]]  # the reading with a CPU missing is left out


def test_a_finished_hour_is_rolled_up_from_its_minutes(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    times = [T0, T0 + 1, T0 + 1800, T0 + 3600, T0 + 7200]  # hours 0 and 1 end when hour 2 starts
    cpus = [10.0, 20.0, 60.0, 50.0, 1.0]
    for seq, (t, cpu) in enumerate(zip(times, cpus, strict=True), 1):
        clock.now = t
        store.append(sample(seq, t, cpu, [cpu, cpu / 2], load_1=cpu / 100))
    assert store.flush()
    with database(store) as conn:
        hours = conn.execute("SELECT t, n, cpu_percent_min, cpu_percent_max, cpu_percent_sum, load_1_sum "
                             "FROM hour ORDER BY t").fetchall()
    assert hours == [(T0, 3, 100, 600, 900, 90), (T0 + 3600, 1, 500, 500, 500, 50)]
    result = store.read_range(T0, T0 + 3 * 3600, 3)
    assert result.tier == "hour" and result.resolution_seconds == 3600
    assert result.series["cpu_percent"] == [30.0, 50.0, 1.0]  # hour 2 is not rolled up: read from raw
    assert result.series["cpu_percent_max"] == [60.0, 50.0, 1.0]
    assert result.series["per_cpu_percent"] == [[30.0, 15.0], [50.0, 25.0], [1.0, 0.5]]
    assert result.series["load_1"] == [0.3, 0.5, 0.01]


def test_minute_ranges_reach_the_newest_sample_through_the_raw_tail(make_store: MakeStore,
                                                                    clock: FakeClock) -> None:
    store = make_store()
    fill(store, clock, [T0 + k for k in range(150)])  # minutes 0 and 1 rolled up, minute 2 not yet
    assert store.flush()
    result = store.read_range(T0, T0 + 180, 3)
    assert result.tier == "minute"
    # cpu is k % 100 at T0 + k: minute 1 holds 60..99 then 0..19; minute 2 (20..49) comes from raw
    assert result.series["cpu_percent"] == [29.5, round((3180 + 190) / 60, 3), 34.5]
    assert result.series["cpu_percent_max"] == [59.0, 99.0, 49.0]


def test_raw_ranges_answer_exactly_as_the_ring_does(make_store: MakeStore, clock: FakeClock) -> None:
    store, ring = make_store(), RingStore(3600)
    for seq in range(1, 400):
        t = T0 + seq + (0.25 if seq % 3 else 0.0)
        s = sample(seq, t, float(seq % 7) * 10.5, [float(seq % 5), 100.0 - seq % 4 * 0.5],
                   load_1=seq / 100, memory_percent=40.0 + seq % 3, disk_read_bytes_per_s=float(seq * 1000),
                   net_recv_bytes_per_s=None if seq % 11 == 0 else 512.0)
        clock.now = t
        store.append(s)
        ring.append(s)
    assert store.flush()
    ranges = ((T0 + 2, T0 + 400, 100), (T0 + 10.5, T0 + 77.25, 13), (T0 + 350, T0 + 500, 150))
    for start, end, points in ranges:
        expected, got = ring.read_range(start, end, points), store.read_range(start, end, points)
        assert got.tier == "raw" and got == expected


def test_time_when_no_server_ran_is_null_and_a_new_instance_counts_from_one(
        make_store: MakeStore, clock: FakeClock) -> None:
    first = make_store("first")
    fill(first, clock, [T0 + k for k in range(10)])
    first.close()
    clock.now = T0 + 20  # ten seconds later, another run of the server
    second = make_store("second")
    fill(second, clock, [T0 + 20 + k for k in range(10)])
    assert second.flush()
    cpu = second.read_range(T0, T0 + 30, 30).series["cpu_percent"]
    assert cpu == [float(k) for k in range(10)] + [None] * 10 + [float(k) for k in range(10)]
    assert second.first_seq == 1 and second.latest_seq == 10 and len(second) == 10
    assert [row[0] for row in second.read(0, 100).rows] == list(range(1, 11))


def test_recent_cursor_reads_come_from_the_ring_without_the_database(
        make_store: MakeStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(history_size=10)
    fill(store, clock, [T0 + k for k in range(30)])
    assert store.flush()

    def no_database() -> sqlite3.Connection:
        raise AssertionError("the ring should have answered")

    monkeypatch.setattr(store, "_reader", no_database)
    cached = store.read_cached(25, 100)
    assert cached is not None and [row[0] for row in cached.rows] == list(range(26, 31))
    assert [row[0] for row in store.read(20, 3).rows] == [21, 22, 23]  # the ring holds 21..30
    assert store.read_cached(5, 10) is None and store.read_cached(None, 11) is None  # beyond it


def test_cursor_reads_beyond_the_ring_come_from_the_database(make_store: MakeStore,
                                                             clock: FakeClock) -> None:
    store = make_store(history_size=10)
    fill(store, clock, [T0 + k for k in range(30)], cores=[12.5, 100.0], disk_read_bytes_per_s=1.5e9)
    assert store.flush()
    older = store.read(5, 10)
    assert [row[0] for row in older.rows] == list(range(6, 16)) and not older.truncated
    assert older.rows[0] == (6, T0 + 5, 5.0, [12.5, 100.0], None, None, None, 1.5e9, None, None, None)
    assert [row[0] for row in store.read(15, 100).rows] == list(range(16, 31))  # file, then ring
    assert [row[0] for row in store.read(None, 25).rows] == list(range(6, 31))
    assert [row[0] for row in store.read(0, 86_400).rows] == list(range(1, 31))
    assert store.read(30, 10).rows == [] and store.read(99, 10).rows == []
    assert store.first_seq == 1 and len(store) == 30 and store.max_limit == 86_400


def test_a_cursor_older_than_what_retention_kept_is_truncated(make_store: MakeStore,
                                                               clock: FakeClock) -> None:
    store = make_store(history_size=10, retention=Retention(raw_seconds=120))
    fill(store, clock, [T0 + k for k in range(300)])
    assert store.flush()
    first = store.first_seq
    assert first is not None and 120 <= first <= 181  # rows not yet rolled up into minutes are kept
    answer = store.read(0, 5)
    assert answer.truncated and [row[0] for row in answer.rows] == list(range(first, first + 5))


def test_status_names_the_file_its_size_and_the_oldest_point(make_store: MakeStore,
                                                             clock: FakeClock) -> None:
    store = make_store()
    fill(store, clock, [T0 + 5 + k for k in range(100)])
    assert store.flush()
    status = store.status()
    assert status.path == str(store.path) and status.status == "ok" and status.error is None
    assert status.size_bytes is not None and status.size_bytes >= store.path.stat().st_size > 0
    assert status.oldest_timestamp == T0  # the first minute's point starts on the minute


def test_a_raw_sample_takes_at_most_48_bytes_plus_one_per_cpu(make_store: MakeStore,
                                                               clock: FakeClock) -> None:
    store = make_store()
    cpus = 8

    def add(first: int, count: int) -> None:
        for seq in range(first, first + count):
            clock.now = t = T0 + seq + seq % 7 / 1000
            burst = seq % 10 == 0  # disks and network are mostly quiet, with bursts
            store.append(sample(seq, t, seq % 1000 / 10, [seq * k % 101 for k in range(cpus)],
                                load_1=seq % 400 / 100, memory_percent=35.0 + seq % 200 / 10,
                                swap_percent=2.5, disk_read_bytes_per_s=seq * 977.0 % 5e7 if burst else 0.0,
                                disk_write_bytes_per_s=seq * 3_079.0 % 2e6,
                                net_sent_bytes_per_s=seq * 7.0 % 5e4,
                                net_recv_bytes_per_s=seq * 131.0 % (4e6 if burst else 2e5)))
        assert store.flush()

    add(1, 600)
    before = used_bytes(store.path)
    add(601, 3600)
    per_sample = (used_bytes(store.path) - before) / 3600
    print(f"{per_sample:.1f} bytes per raw sample with {cpus} CPUs, every tier included")
    assert per_sample <= 48 + cpus


def used_bytes(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        count, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    return int((count - free) * size)


def test_append_never_waits_for_the_database(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    fill(store, clock, [T0])
    assert store.flush()
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # the writer thread now waits for the lock
    released = threading.Event()
    try:
        worst = 0.0
        for k in range(1, 200):
            started = time.perf_counter()
            fill(store, clock, [T0 + k], first_seq=k + 1)
            worst = max(worst, time.perf_counter() - started)
        assert worst < 0.05 and store.latest_seq == 200
        cached = store.read_cached(190, 10)
        assert cached is not None and len(cached.rows) == 10
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        released.set()
    assert store.flush()
    with database(store) as conn:
        assert conn.execute("SELECT count(*) FROM raw").fetchone()[0] == 200


def test_close_writes_what_is_pending(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    fill(store, clock, [T0 + k for k in range(50)])
    store.close()  # no flush first
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*), max(seq) FROM raw").fetchone() == (50, 50)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_sample_that_cannot_be_stored_is_skipped_and_writing_goes_on(
        make_store: MakeStore, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    store = make_store()
    store.append(sample(1, T0, cpu=10.0, cores=["busy", 3.0]))  # type: ignore[list-item]
    fill(store, clock, [T0 + 1], first_seq=2)
    assert store.flush() and store.status().status == "ok"
    assert [row[0] for row in store.read(0, 10).rows] == [1, 2]  # the ring keeps what it was given
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT seq FROM raw").fetchall() == [(2,)]
    assert "could not be stored" in caplog.text
