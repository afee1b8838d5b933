#!/usr/bin/env python3
"""Where a WAL commit's disk writes go: SQLite alone, one 43-byte row a second, side by side.

bench_writes.py measures the real server; this takes SQLite alone, so the cost of the WAL's
index (``-shm``, a shared memory map on disk) can be told from the WAL's own pages:
``locking_mode=EXCLUSIVE`` keeps the index in the heap (no ``-shm``; but then no other
connection may read the file, which the store's readers need). Each variant is a child
process that writes one raw-like row a second, committed every C seconds, and reports the
``write_bytes`` of its own ``/proc/self/io`` over the window. All run at once.

    python bench/bench_wal_pages.py --seconds 300
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {  # name: (commit seconds, page size, exclusive)
    "commit 1 s": (1, 1024, False), "commit 5 s": (5, 1024, False), "commit 10 s": (10, 1024, False),
    "commit 30 s": (30, 1024, False), "commit 60 s": (60, 1024, False),
    "commit 5 s, no -shm": (5, 1024, True), "commit 5 s, no -shm, 512 B pages": (5, 512, True),
    "commit 10 s, no -shm": (10, 1024, True), "commit 30 s, no -shm": (30, 1024, True),
}
ROW = (10, 2000, 3000, 12345, 99999, 123456, 7, 8, 9, b"\x10\x20")


def write_bytes() -> int:
    """This process's write_bytes."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/self/io")


def child(directory: Path, commit: float, page: int, exclusive: bool, warmup: float, seconds: float) -> None:
    """Write a row a second, commit every ``commit`` s; print bytes/s over the window as JSON."""
    conn = sqlite3.connect(directory / "db", isolation_level=None)
    conn.execute(f"PRAGMA page_size={page}")
    conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    if exclusive:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE raw (t INTEGER PRIMARY KEY, a, b, c, d, e, f, g, h, i, cores BLOB)")
    t, pending, last = 1_700_000_000_000, [], time.monotonic()
    began = time.monotonic() + warmup
    start = None
    while time.monotonic() < began + seconds:
        time.sleep(1)
        if start is None and time.monotonic() >= began:
            start = write_bytes()
        t += 1000
        pending.append((t, *ROW))
        if time.monotonic() - last >= commit - 0.01:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO raw VALUES (?,?,?,?,?,?,?,?,?,?,?)", pending)
            conn.execute("COMMIT")
            pending.clear()
            last = time.monotonic()
    print(json.dumps({"bytes_per_s": (write_bytes() - (start or 0)) / seconds}))


def main() -> int:
    """Run every variant at once and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=float, default=40.0)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        directory, commit, page, exclusive = args.child
        child(Path(directory), float(commit), int(page), exclusive == "1", args.warmup, args.seconds)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-wal-") as tmp:  # /tmp: a disk here, not tmpfs
        runs = {}
        for k, (name, (commit, page, exclusive)) in enumerate(VARIANTS.items()):
            directory = Path(tmp) / str(k)
            directory.mkdir()
            runs[name] = subprocess.Popen(
                [sys.executable, __file__, "--warmup", str(args.warmup), "--seconds", str(args.seconds),
                 "--child", str(directory), str(commit), str(page), "1" if exclusive else "0"],
                stdout=subprocess.PIPE, text=True)
        print(f"| SQLite alone, a row a second, {args.seconds:g} s | write_bytes B/s | MB a day |")
        print("|---|---|---|")
        for name, proc in runs.items():
            rate = json.loads(proc.communicate()[0])["bytes_per_s"]
            print(f"| {name} | {rate:.0f} | {rate * 86400 / 1e6:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
