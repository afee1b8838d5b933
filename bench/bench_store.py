#!/usr/bin/env python3
"""What the SQLite history store costs: bytes per raw sample, file size, write CPU and range-query time.

A store is filled with ``--days`` of synthetic samples at 1 s through its own API
(``append`` under a fake wall clock, so no waiting; ``flush`` every simulated hour keeps the
writer's queue short), with the default retention (raw 14 d, minute 90 d, hour 2 y). Reported:
the growth of the data per raw sample over the first day (every tier included) and of the
raw table alone, the file size at the end, the writer thread's CPU per sample, the cost of
``append`` on the caller's thread, the time to reopen the file (it runs ``quick_check``),
and the median time of ``read_range`` over 1 h, 24 h, 7 d and 30 d at 1,000 points.

With ``--rows N`` each sample also has N filesystems, N network interfaces and N disks, whose
kept fields (``percent``; ``sent``/``recv_bytes_per_s``; ``read``/``write_bytes_per_s``) are
series of their own: 5 N labelled values a sample. A second store filled for a day with the
same samples without rows gives, in the same run, the bytes of today's host fields alone and so
the bytes per labelled value; the ranges are then also read with ``series=`` selectors.

    python bench/bench_store.py [--days 30] [--cpus 2] [--rows 0] [--runs 7] [--dir DIR]

The 30-day fill takes about 3 minutes on 2 cores (without rows).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.schema import empty_sample
from perfmon.store.sqlite.store import SqliteStore

T0 = 1_790_000_000.0
DAY = 86400
SPANS = (("1 h", 3600), ("24 h", DAY), ("7 d", 7 * DAY), ("30 d", 30 * DAY))
SELECTORS = tuple(Selector.parse(text) for text in ("disks[mountpoint=/].percent",
                                                     "network[interface=~eth.*].recv_bytes_per_s"))
LABELLED_PER_ROW = 5  # disks.percent, network sent/recv, disk_io read/write


class Clock:
    """A wall clock the benchmark moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Synthetic:
    """Plausible samples: random walks for usage and load, bursty rates, no swap."""

    def __init__(self, cpus: int, seed: int = 1, rows: int = 0) -> None:
        self.rng = random.Random(seed)
        self.rows = rows
        self.cpus = [10.0] * cpus
        self.memory = 40.0
        self.load = 0.5
        self.sample = empty_sample()

    def walk(self, value: float, step: float, low: float, high: float) -> float:
        return min(high, max(low, value + self.rng.uniform(-step, step)))

    def next(self, seq: int, timestamp: float) -> dict[str, Any]:
        """The sample dict is reused: the store copies what it keeps (a row) in append()."""
        rng, s = self.rng, self.sample
        self.cpus = [round(self.walk(c, 8, 0, 100), 1) for c in self.cpus]
        self.memory = self.walk(self.memory, 0.2, 20, 90)
        self.load = self.walk(self.load, 0.1, 0, 8)
        s["seq"], s["timestamp"] = seq, round(timestamp, 3)
        s["cpu"]["percent"] = round(sum(self.cpus) / len(self.cpus), 1)
        s["cpu"]["per_cpu_percent"] = list(self.cpus)
        s["cpu"]["load_average"] = [round(self.load, 2), 0.0, 0.0]
        s["memory"]["percent"] = round(self.memory, 1)
        bursty = rng.random() < 0.1
        s["disk_io"]["read_bytes_per_s"] = rng.uniform(1e5, 5e7) if bursty else 0.0
        s["disk_io"]["write_bytes_per_s"] = rng.uniform(4096, 2e6)
        s["network"]["sent_bytes_per_s"] = rng.uniform(100, 5e4)
        s["network"]["recv_bytes_per_s"] = rng.uniform(100, 2e5) * (20 if bursty else 1)
        if self.rows:
            self.add_rows(s, bursty)
        return s

    def add_rows(self, s: dict[str, Any], bursty: bool) -> None:
        """``rows`` filesystems, interfaces and disks, with plausible values."""
        rng, n = self.rng, self.rows
        s["disks"] = [{"mountpoint": "/" if k == 0 else f"/srv/{k}", "device": f"/dev/vd{k}",
                       "fstype": "ext4", "percent": round(40 + k + rng.uniform(-0.05, 0.05), 1)}
                      for k in range(n)]
        s["network"]["interfaces"] = [{"name": f"eth{k}", "sent_bytes_per_s": rng.uniform(100, 5e4),
                                       "recv_bytes_per_s": rng.uniform(100, 2e5)} for k in range(n)]
        s["disk_io"]["devices"] = [{"name": f"vd{k}", "write_bytes_per_s": rng.uniform(4096, 2e6),
                                    "read_bytes_per_s": rng.uniform(1e5, 5e7) if bursty else 0.0}
                                   for k in range(n)]


def data_bytes(path: Path, table: str | None = None) -> int:
    """Bytes of the database holding data (all of it, or one table's pages), seen through the WAL."""
    with sqlite3.connect(path) as conn:
        if table is not None:
            return int(conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (table,)).fetchone()[0])
        pages = [conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count",
                                                                       "page_size")]
        return int((pages[0] - pages[1]) * pages[2])


def fill(store: SqliteStore, clock: Clock, synthetic: Synthetic, first: int, count: int) -> float:
    """Append samples ``first`` .. ``first + count - 1`` (one a second); CPU seconds spent in append.

    CPU time of this thread, not wall time: the writer thread, busy in this fill as it never
    is live, holds the GIL at times, and waiting for it is not append's cost.
    """
    spent = 0.0
    for seq in range(first, first + count):
        clock.now = T0 + seq
        sample = synthetic.next(seq, clock.now + synthetic.rng.uniform(0, 0.004))
        started = time.thread_time()
        store.append(sample)
        spent += time.thread_time() - started
        if seq % 3600 == 0 and not store.flush(600):
            raise RuntimeError(f"the store did not catch up: {store.status()}")
    return spent


def written_bytes() -> int:
    """Bytes this process has passed to write() so far (Linux)."""
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("wchar:"))


def live(store: SqliteStore, clock: Clock, synthetic: Synthetic, first: int,
         count: int) -> tuple[float, float]:
    """One commit per sample, as when sampling every second: writer CPU seconds and bytes written, each."""
    cpu, written = store.write_stats().cpu_seconds, written_bytes()
    for seq in range(first, first + count):
        clock.now = T0 + seq
        store.append(synthetic.next(seq, clock.now))
        store.flush(60, upkeep=seq % 5 == 0)  # upkeep runs every 5 s when live
    return (store.write_stats().cpu_seconds - cpu) / count, (written_bytes() - written) / count


def time_ranges(store: SqliteStore, end: float, runs: int,
                selectors: tuple[Selector, ...] = ()) -> list[tuple[str, str, float, float]]:
    """Median and worst milliseconds of read_range per span, with the tier that answered."""
    rows = []
    for label, span in SPANS:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = store.read_range(end - span, end, 1000, selectors)
            times.append((time.perf_counter() - started) * 1000)
        rows.append((label, f"{result.tier} ({result.resolution_seconds:g} s)", statistics.median(times),
                     max(times)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rows", type=int, default=0, help="filesystems, interfaces and disks a sample")
    parser.add_argument("--dir", type=Path, default=None, help="where the database goes (a temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        return run(Path(tmp) / "history.sqlite3", args)


def host_fields_alone(path: Path, args: argparse.Namespace) -> float:
    """Bytes per raw sample over a day of the same samples without rows (today's host fields)."""
    clock = Clock(T0)
    store = SqliteStore(path, instance_id="plain", interval_seconds=1.0, history_size=3600, clock=clock)
    fill(store, clock, Synthetic(args.cpus), 1, DAY)
    store.flush(600)
    store.close()
    return data_bytes(path) / DAY


def run(path: Path, args: argparse.Namespace) -> int:
    plain = host_fields_alone(path.with_name("plain.sqlite3"), args) if args.rows else None
    clock, synthetic = Clock(T0), Synthetic(args.cpus, rows=args.rows)
    store = SqliteStore(path, instance_id="bench", interval_seconds=1.0, history_size=3600, clock=clock)
    began = time.perf_counter()
    spent = fill(store, clock, synthetic, 1, DAY)
    store.flush(600)
    day_total, day_raw = data_bytes(path), data_bytes(path, "raw")
    spent += fill(store, clock, synthetic, DAY + 1, (args.days - 1) * DAY - 600)
    store.flush(600)
    filled = time.perf_counter() - began
    stats = store.write_stats()
    live_cpu, live_bytes = live(store, clock, synthetic, args.days * DAY - 599, 600)
    ranges = time_ranges(store, clock.now, args.runs)
    picked = time_ranges(store, clock.now, args.runs, SELECTORS) if args.rows else []
    store.close()
    size = path.stat().st_size
    opened = time.perf_counter()
    SqliteStore(path, instance_id="reopen", interval_seconds=1.0, history_size=10, clock=clock).close()
    reopen = time.perf_counter() - opened
    report(args, day_total / DAY, day_raw / DAY, size, (stats.cpu_seconds / stats.rows, live_cpu, live_bytes),
           spent / (args.days * DAY - 600), filled, reopen, ranges)
    if plain is not None:
        values = LABELLED_PER_ROW * args.rows
        print(f"\n| with --rows {args.rows} ({values} labelled values a sample) | value |\n|---|---|")
        print(f"| today's host fields alone, first day, all tiers | {plain:.1f} B per sample (budget 50 B) |")
        print(f"| each labelled value, first day, all tiers | {(day_total / DAY - plain) / values:.2f} B "
              f"(budget 6 B) |")
        print(f"\n| read_range with series= ({len(SELECTORS)} selectors, {1 + args.rows} series) | tier | "
              f"median ms | worst ms |\n|---|---|---|---|")
        for label, tier, median, worst in picked:
            print(f"| {label} | {tier} | {median:.1f} | {worst:.1f} |")
    return 0


def report(args: argparse.Namespace, per_sample: float, raw_per_sample: float, size: int,
           writer: tuple[float, float, float], append: float, filled: float, reopen: float,
           ranges: list[tuple[str, str, float, float]]) -> None:
    print(f"\n`python bench/bench_store.py --days {args.days} --cpus {args.cpus} --runs {args.runs}` "
          f"({sys.platform}, SQLite {sqlite3.sqlite_version}; fill took {filled:.0f} s)\n")
    print("| measure | value |\n|---|---|")
    print(f"| data per raw sample, first day, all tiers | {per_sample:.1f} B "
          f"(budget {48 + args.cpus} B: 48 + 1 per CPU) |")
    print(f"| raw table alone | {raw_per_sample:.1f} B per sample |")
    print(f"| file after {args.days} days (raw 14 d, minute and hour kept) | {size / 2**20:.1f} MiB |")
    print(f"| writer thread CPU, batched fill (3,600 a commit) | {writer[0] * 1e6:.1f} µs per sample |")
    print(f"| writer thread CPU, live (one commit per sample) | {writer[1] * 1e6:.0f} µs per sample |")
    print(f"| bytes written to the file system, live | {writer[2] / 1024:.1f} KiB per sample (WAL frames) |")
    print(f"| append() on the caller's thread | {append * 1e6:.1f} µs |")
    print(f"| reopen (quick_check, catch-up) | {reopen * 1000:.0f} ms |")
    print(f"\n| read_range, 1,000 points | tier | median ms | worst ms ({args.runs} runs) |")
    print("|---|---|---|---|")
    for label, tier, median, worst in ranges:
        print(f"| {label} | {tier} | {median:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    raise SystemExit(main())
