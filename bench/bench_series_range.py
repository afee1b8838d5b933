#!/usr/bin/env python3
"""Range reads at 1,000 points over 30 days of tier points and an hour of raw rows, with and without series=.

Filling 30 days through ``append`` (``bench_store.py --days 30``) takes minutes; this writes the
minute, ten-minute and hour points of today's columns and of 12 per-row series (4 filesystems,
4 interfaces' sent and received) straight into a fresh store's tables, and the last hour's raw
rows (one a second, the 12 series packed in a BLOB as the writer packs them), then times
``read_range`` over the 30 days (the ten-minute tier answers) and over the last hour (the raw
tier answers) for today's columns alone and with two selectors that pick 5 series.

``--before DIR`` also times a checkout of an older release (``git worktree add DIR main``) on the
same file, in turns with this tree (each turn a fresh process), and prints both and their ratio.

    python bench/bench_series_range.py [--runs 7] [--before DIR] [--turns 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfmon.core.metrics import Selector
from perfmon.store.buckets import VALUE_COLUMNS
from perfmon.store.series import steps as series_steps
from perfmon.store.sqlite.layouts import parse_key
from perfmon.store.sqlite.series_tiers import key
from perfmon.store.sqlite.store import SqliteStore
from perfmon.store.sqlite.varints import pack, pack_ids

T0 = 1_790_000_000 // 3600 * 3600
DAY = 86400
END = T0 + 30 * DAY
KEYS = (["disks[mountpoint=/].percent"] + [f"disks[mountpoint=/srv/{k}].percent" for k in range(1, 4)]
        + [f"network[interface=eth{k}].{d}_bytes_per_s" for k in range(4) for d in ("recv", "sent")])
SELECTORS = ("disks[mountpoint=/].percent", "network[interface=~eth.*].recv_bytes_per_s")
CASES = (("30 d, today's columns", 30 * DAY, False), ("30 d, with series= (5 series)", 30 * DAY, True),
         ("1 h, today's columns", 3600, False), ("1 h, with series= (5 series)", 3600, True))
ROOT = Path(__file__).resolve().parent.parent


def fill(path: Path) -> None:
    """30 days of tier points for today's columns and every series of KEYS, and the last hour's raw rows."""
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
        fill_raw(conn)
    conn.close()


def fill_raw(conn: sqlite3.Connection) -> None:
    """The last hour, a row a second: percentages of 0-100 % in tenths, rates of up to about 5 MB/s."""
    layout = conn.execute("INSERT INTO layouts (series) VALUES (?)", (pack_ids(range(1, len(KEYS) + 1)),))
    steps = [series_steps(parse_key(k)) for k in KEYS]
    names = ", ".join(VALUE_COLUMNS)
    rows = []
    for s in range(3600):
        values = [(s * 7 + k * 131) % 1000 / 10 if k < 4 else (s * 7919 + k * 104_729) % 5_000_000
                  for k in range(len(KEYS))]
        rows.append(((END - 3600 + s) * 1000, 1, s + 1, *([s % 1000] * len(VALUE_COLUMNS)),
                     layout.lastrowid, pack(values, steps)))
    conn.executemany(f"INSERT INTO raw (t, instance, seq, {names}, layout, series) "
                     f"VALUES ({', '.join('?' * (5 + len(VALUE_COLUMNS)))})", rows)


Times = list[tuple[float, float]]  # per read: wall-clock ms, this thread's CPU ms


def measure(path: Path, runs: int) -> dict[str, tuple[str, str, Times]]:
    """Each case's tier, a digest of its answer and times of ``runs`` reads."""
    store = SqliteStore(path, instance_id="read", interval_seconds=1.0, history_size=10, clock=lambda: END)
    selectors = tuple(Selector.parse(s) for s in SELECTORS)
    out: dict[str, tuple[str, str, Times]] = {}
    for label, span, with_series in CASES:
        times = []
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.thread_time()
            result = store.read_range(END - span, END, 1000, selectors if with_series else ())
            times.append(((time.perf_counter() - started) * 1000, (time.thread_time() - cpu) * 1000))
        extra = sorted(map(repr, result.extra.items()))
        answer = repr((result.start, result.resolution_seconds, result.series, extra))
        out[label] = (result.tier, hashlib.sha256(answer.encode()).hexdigest()[:12], times)
    store.close()
    return out


def in_process(tree: Path, path: Path, runs: int) -> dict[str, tuple[str, str, Times]]:
    """``measure`` in a fresh process importing ``perfmon`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--worker", str(path), "--runs", str(runs)],
                          env=env, check=True, stdout=subprocess.PIPE, text=True)
    return {label: (tier, digest, [(wall, cpu) for wall, cpu in times])
            for label, (tier, digest, times) in json.loads(done.stdout).items()}


def figures(times: Times) -> tuple[float, float, float]:
    """Median and worst wall-clock ms, median CPU ms."""
    wall = [w for w, _ in times]
    return statistics.median(wall), max(wall), statistics.median(c for _, c in times)


def report(after: dict[str, Times], before: dict[str, Times], tiers: dict[str, str]) -> None:
    """The table: median and worst wall-clock times and median CPU, with --before both and their ratio."""
    if not before:
        print("| read_range, 1,000 points | tier | median ms | worst ms | CPU ms |\n|---|---|---|---|---|")
        for label, times in after.items():
            print(f"| {label} | {tiers[label]} | " + " | ".join(f"{x:.1f}" for x in figures(times)) + " |")
        return
    print("| read_range, 1,000 points | tier | before: median (worst) ms, CPU ms | after: median (worst) ms, "
          "CPU ms | after / before: median, CPU |\n|---|---|---|---|---|")
    for label, times in after.items():
        (old, old_worst, old_cpu), (new, worst, cpu) = figures(before[label]), figures(times)
        print(f"| {label} | {tiers[label]} | {old:.1f} ({old_worst:.1f}), {old_cpu:.1f} "
              f"| {new:.1f} ({worst:.1f}), {cpu:.1f} | {new / old:.2f}, {cpu / old_cpu:.2f} |")


def run(args: argparse.Namespace, path: Path) -> int:
    """Fill, then time this tree (and --before in turns); 1 if the two answered differently."""
    fill(path)
    SqliteStore(path, instance_id="open", interval_seconds=1.0, history_size=10, clock=lambda: END).close()
    trees = [("before", args.before.resolve())] if args.before else []
    trees.append(("after", ROOT))
    times: dict[str, dict[str, Times]] = {name: {} for name, _ in trees}
    answers: dict[str, set[tuple[str, str, str]]] = {name: set() for name, _ in trees}
    for _ in range(args.turns if args.before else 1):
        for name, tree in trees:
            for label, (tier, digest, taken) in in_process(tree, path, args.runs).items():
                times[name].setdefault(label, []).extend(taken)
                answers[name].add((label, tier, digest))
    report(times["after"], times.get("before", {}), {label: tier for label, tier, _ in answers["after"]})
    if args.before and answers["before"] != answers["after"]:
        print("different answers before and after:", sorted(answers["before"] ^ answers["after"]))
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, help="a checkout of an older release to time in turns")
    parser.add_argument("--turns", type=int, default=3,
                        help="with --before: turns of each, --runs reads a turn")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.runs)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        return run(args, Path(tmp) / "history.sqlite3")


if __name__ == "__main__":
    raise SystemExit(main())
