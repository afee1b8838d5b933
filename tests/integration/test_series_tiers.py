"""Per-row series in the SQLite tiers: roll-ups to minutes, ten minutes and hours, trims, the layout.

Real SQLite files under a fake wall clock (``make_store``); samples carry two filesystems, one
of which is mounted only in the second hour.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.schema import empty_sample
from perfmon.store.base import Retention
from perfmon.store.sqlite.store import SqliteStore
from tests.conftest import STORE_T0 as T0
from tests.support.fakes import FakeClock

HOUR = 3600
ROOT, BOOT = "disks[mountpoint=/].percent", "disks[mountpoint=/boot].percent"
DISKS = (Selector.parse("disks.percent"),)
MakeStore = Callable[..., SqliteStore]


def sample(seq: int, t: float, root: float, boot: float | None) -> dict[str, Any]:
    s = empty_sample()
    s.update(seq=seq, timestamp=t)
    s["disks"] = [{"mountpoint": "/", "device": "/dev/vda1", "fstype": "ext4", "percent": root}]
    if boot is not None:
        s["disks"].append({"mountpoint": "/boot", "device": "/dev/vda2", "fstype": "ext4", "percent": boot})
    return s


def two_hours(store: SqliteStore, clock: FakeClock) -> None:
    """Every 10 s for two hours: / at 0.0, 0.1 .. 0.5 % each minute, /boot at 50 % in the second hour only."""
    for k in range(2 * HOUR // 10):
        clock.now = t = T0 + 10 * k
        store.append(sample(k + 1, t, k % 6 / 10, 50.0 if t >= T0 + HOUR else None))
        if k % 60 == 59:
            assert store.flush()
    clock.now = T0 + 2 * HOUR + 120
    store.append(sample(2 * HOUR // 10 + 1, clock.now, 0.0, 50.0))  # closes the last minute of the two hours
    assert store.flush()


def by_key(result: Any) -> dict[str, tuple[list[Any], list[Any], list[Any]]]:
    return {str(k): v for k, v in result.extra.items()}


def test_series_roll_up_to_hours_with_min_mean_max_as_the_raw_samples_give(
        make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    two_hours(store, clock)
    hours = store.read_range(T0, T0 + 2 * HOUR, 2, DISKS)
    assert hours.tier == "hour"
    assert by_key(hours)[ROOT] == ([0.25, 0.25], [0.0, 0.0], [0.5, 0.5])
    assert by_key(hours)[BOOT] == ([None, 50.0], [None, 50.0], [None, 50.0])
    tens = store.read_range(T0, T0 + 2 * HOUR, 12, DISKS)
    assert tens.tier == "ten_minute" and by_key(tens)[ROOT] == ([0.25] * 12, [0.0] * 12, [0.5] * 12)
    assert by_key(tens)[BOOT][0] == [None] * 6 + [50.0] * 6
    raw = store.read_range(T0, T0 + 2 * HOUR, 720, DISKS)  # every sample
    assert raw.tier == "raw" and by_key(raw)[ROOT][0] == [k % 6 / 10 for k in range(720)]
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("SELECT count(*) FROM series_hour").fetchone()[0] == 3  # /, / and /boot
        assert conn.execute("SELECT count(*) FROM layouts").fetchone()[0] == 2  # the rows changed once


def test_a_series_rolled_up_reads_the_same_as_from_the_ring(make_store: MakeStore,
                                                             clock: FakeClock) -> None:
    store = make_store()
    two_hours(store, clock)
    from_file = store.read_range(T0, T0 + 2 * HOUR, 6, DISKS)  # 20-minute buckets of ten-minute points
    from_ring = store._ring.read_range(T0, T0 + 2 * HOUR, 6, DISKS)  # the ring holds all 720 samples
    assert from_file.tier == "ten_minute" and by_key(from_file) == by_key(from_ring)


def test_trimming_a_tier_trims_its_series(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store()
    two_hours(store, clock)
    store.close()
    clock.now += 1800
    trimmed = make_store("after", retention=Retention(raw_seconds=600, minute_seconds=3600))
    assert trimmed.flush()
    with sqlite3.connect(trimmed.path) as conn:
        oldest_minute = conn.execute("SELECT min(t) FROM minute").fetchone()[0]
        oldest_series = conn.execute("SELECT min(k & ((1 << 40) - 1)) FROM series_minute").fetchone()[0]
        hours = conn.execute("SELECT count(*) FROM series_hour").fetchone()[0]
    assert oldest_minute > T0 and oldest_series == oldest_minute and hours == 3
