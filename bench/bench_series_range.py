#!/usr/bin/env python3
"""A 30-day range read at 1,000 points over 30 days of tier points, with and without ``series=``.

Filling 30 days through ``append`` (``bench_store.py --days 30``) takes minutes; this writes the
minute, ten-minute and hour points of today's columns and of 12 per-row series (4 filesystems,
4 interfaces' sent and received) straight into a fresh store's tables, then times
``read_range`` over the 30 days (the ten-minute tier answers) for today's columns alone and
with two selectors that pick 5 series.

    python bench/bench_series_range.py [--runs 7]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from perfmon.core.metrics import Selector
from perfmon.store.buckets import VALUE_COLUMNS
from perfmon.store.sqlite.series_tiers import key
from perfmon.store.sqlite.store import SqliteStore

T0 = 1_790_000_000 // 3600 * 3600
DAY = 86400
END = T0 + 30 * DAY
KEYS = (["disks[mountpoint=/].percent"] + [f"disks[mountpoint=/srv/{k}].percent" for k in range(1, 4)]
        + [f"network[interface=eth{k}].{d}_bytes_per_s" for k in range(4) for d in ("recv", "sent")])
SELECTORS = (Selector.parse("disks[mountpoint=/].percent"),
             Selector.parse("network[interface=~eth.*].recv_bytes_per_s"))


def fill(path: Path) -> None:
    """30 days of tier points for today's columns and every series of KEYS."""
    SqliteStore(path, instance_id="made", interval_seconds=1.0, history_size=10, clock=lambda: END).close()
    columns = ", ".join(f"{c}_min, {c}_max, {c}_sum, {c}_n" for c in VALUE_COLUMNS)
    marks = ", ".join("?" * (2 + 4 * len(VALUE_COLUMNS)))
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO series (key) VALUES (?)", [(k,) for k in KEYS])
        for name, step in (("minute", 60), ("ten_minute", 600), ("hour", 3600)):
            periods = range(T0, END, step)
            points = [(t, step, *([100, 900, 500 * step, step] * len(VALUE_COLUMNS))) for t in periods]
            conn.executemany(f"INSERT INTO {name} (t, n, {columns}) VALUES ({marks})", points)
            conn.executemany(f"INSERT INTO series_{name} (k, n, lo, hi, total) VALUES (?, ?, ?, ?, ?)",
                             [(key(i, t), step, 100, 900, 500 * step) for i in range(1, len(KEYS) + 1)
                              for t in periods])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite3"
        fill(path)
        store = SqliteStore(path, instance_id="read", interval_seconds=1.0, history_size=10,
                            clock=lambda: END)
        print("| read_range 30 d, 1,000 points | tier | median ms | worst ms |\n|---|---|---|---|")
        for label, selectors in (("today's columns", ()), ("with series= (5 series)", SELECTORS)):
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = store.read_range(END - 30 * DAY, END, 1000, selectors)
                times.append((time.perf_counter() - started) * 1000)
            print(f"| {label} | {result.tier} | {statistics.median(times):.1f} | {max(times):.1f} |")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
