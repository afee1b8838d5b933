"""Range reads of per-row series from a SQLite file answer as the ring does, from every tier.

Real SQLite files under a fake wall clock (``make_store``); samples every 10 s for two hours
carry three filesystems (one null every third sample, one mounted only in the second hour)
and an interface whose sent rate is kept but not asked for. Each asked-for series has the
values of one of today's columns too, so a tier's buckets of a series, wherever they start, must
be those of its column (a bucket holds the tier's periods that start in it, not the samples);
raw buckets must be the ring's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from perfmon.core.metrics import Selector
from perfmon.core.schema import empty_sample
from perfmon.store.sqlite.store import SqliteStore
from tests.conftest import STORE_T0 as T0
from tests.support.fakes import FakeClock

HOUR = 3600
SELECTORS = (Selector.parse("disks.percent"), Selector.parse("network[interface=eth0].recv_bytes_per_s"))
ROOT, SRV, MNT = (f"disks[mountpoint={m}].percent" for m in ("/", "/srv", "/mnt"))
RECV = "network[interface=eth0].recv_bytes_per_s"
COLUMNS = {ROOT: "cpu_percent", SRV: "memory_percent", MNT: "swap_percent", RECV: "net_recv_bytes_per_s"}
MakeStore = Callable[..., SqliteStore]


def sample(k: int, t: float) -> dict[str, Any]:
    s = empty_sample()
    s.update(seq=k + 1, timestamp=t)
    root, srv = k % 6 / 10, None if k % 3 == 0 else 20.0 + k % 5
    mnt = 30.0 + k % 3 if t >= T0 + HOUR else None
    recv = float(k * 104_729 % 7_000_000)  # up to 4 bytes a varint
    s["disks"] = [{"mountpoint": "/", "percent": root}, {"mountpoint": "/srv", "percent": srv}]
    if mnt is not None:
        s["disks"].append({"mountpoint": "/mnt", "percent": mnt})
    s["network"]["interfaces"] = [{"name": "eth0", "sent_bytes_per_s": 5.0, "recv_bytes_per_s": recv}]
    s["cpu"]["percent"], s["memory"]["percent"], s["swap"]["percent"] = root, srv, mnt
    s["network"]["recv_bytes_per_s"] = recv
    return s


@pytest.fixture
def store(make_store: MakeStore, clock: FakeClock) -> SqliteStore:
    """Two hours of samples, all in the file (minutes, ten minutes and hours rolled up), and in the ring."""
    made = make_store()
    for k in range(2 * HOUR // 10):
        clock.now = T0 + 10 * k
        made.append(sample(k, clock.now))
        if k % 60 == 59:
            assert made.flush()
    clock.now = T0 + 2 * HOUR + 120
    made.append(sample(2 * HOUR // 10, clock.now))  # closes the last minute of the two hours
    assert made.flush()
    return made


def by_key(result: Any) -> dict[str, tuple[list[Any], list[Any], list[Any]]]:
    return {str(k): v for k, v in result.extra.items()}


@pytest.mark.parametrize(("start", "end", "points", "tier"), [
    (T0 + 3.7, T0 + 2 * HOUR - 11.3, 700, "raw"),  # buckets of 11 s, edges between samples
    (T0 + HOUR - 45, T0 + 2 * HOUR + 5, 100, "raw"),  # the layout changes in the first bucket
    (T0 + 95, T0 + 2 * HOUR, 50, "minute"),  # 3-minute buckets from 95 s in
    (T0 + 601, T0 + 2 * HOUR, 10, "ten_minute"),  # its first bucket starts inside a ten-minute point
    (T0, T0 + 2 * HOUR, 2, "hour"),
])
def test_a_range_with_series_buckets_them_as_the_columns_and_the_ring(
        store: SqliteStore, start: float, end: float, points: int, tier: str) -> None:
    from_file = store.read_range(start, end, points, SELECTORS)
    series = by_key(from_file)
    assert from_file.tier == tier and set(series) == {ROOT, SRV, MNT, RECV}
    for key, column in COLUMNS.items():
        columns = from_file.series
        assert series[key] == (columns[column], columns[f"{column}_min"], columns[f"{column}_max"]), key
    assert any(v is None for v in series[MNT][0]) and any(v is not None for v in series[MNT][0])
    if tier == "raw":
        assert series == by_key(store._ring.read_range(start, end, points, SELECTORS))  # holds every sample


def test_the_series_missing_from_a_layout_are_null_there(store: SqliteStore) -> None:
    raw = by_key(store.read_range(T0, T0 + 2 * HOUR, 720, SELECTORS))  # a bucket a sample
    assert raw[MNT][0] == [None] * 360 + [30.0 + k % 3 for k in range(360, 720)]
    assert raw[SRV][1] == [None if k % 3 == 0 else 20.0 + k % 5 for k in range(720)]
    assert raw[RECV][2] == [float(k * 104_729 % 7_000_000) for k in range(720)]


def test_a_blob_shorter_than_its_layout_leaves_the_series_past_its_end_null(store: SqliteStore) -> None:
    with sqlite3.connect(store.path) as conn:  # three rows keep only their first value (/)
        conn.execute("UPDATE raw SET series = substr(series, 1, 1) WHERE t >= ? AND t < ?",
                     (round((T0 + 600) * 1000), round((T0 + 630) * 1000)))
    conn.close()
    raw = by_key(store.read_range(T0 + 590, T0 + 640, 5, SELECTORS))  # 10-s buckets, a sample each
    assert raw[ROOT][0] == [k % 6 / 10 for k in range(59, 64)]
    assert raw[SRV][0] == [None if k % 3 == 0 or 60 <= k < 63 else 20.0 + k % 5 for k in range(59, 64)]
    assert raw[RECV][0] == [float(k * 104_729 % 7_000_000) if k in (59, 63) else None for k in range(59, 64)]
