#!/usr/bin/env python3
"""What salvaging a damaged history file keeps, and what it costs: the issue's case and a few more.

The database is the issue's: two days at 1 s (172,800 raw samples with their minute, ten-minute
and hour roll-ups, about 7.8 MB), made by one bulk insert of plausible values. For each damage
(``--bytes`` random bytes written at a fraction of the file, several seeds), a copy is opened as
the server opens it (``open_database``: quick_check, then the salvage) and the rows kept, the rows
lost and the time are reported. Where the sqlite3 CLI is installed, its ``.recover`` is run on the
same damaged copy for comparison (raw rows it brings back, and its time; "failed" when it cannot
run: Debian 12's sqlite3 3.40 is built without the sqlite_dbpage table that ``.recover`` needs, so
it fails even on a sound file). Also: quick_check on the sound file, which every start runs.

    python bench/bench_salvage.py [--rows 172800] [--bytes 200] [--seeds 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfmon.store.buckets import CORES
from perfmon.store.sqlite.codec import RAW_COLUMNS
from perfmon.store.sqlite.schema import open_database
from perfmon.store.sqlite.store import SqliteStore

T0 = 1_790_000_000
PLACES = (0.25, 0.5, 0.75, 0.9)


def build(path: Path, rows: int) -> None:
    """The issue's database: ``rows`` samples a second apart, bulk-inserted, then rolled up."""
    conn = open_database(path)
    instance = conn.execute("INSERT INTO instances (name, started_ms) VALUES ('bench', ?)",
                            (T0 * 1000,)).lastrowid
    rng = random.Random(1)
    cpu = RAW_COLUMNS.index("cpu_percent")
    data = []
    for k in range(rows):
        row: list[object] = [None] * len(RAW_COLUMNS)
        row[:3] = [(T0 + k) * 1000, instance, k + 1]
        row[cpu:cpu + 8] = [rng.randint(0, 1000), rng.randint(0, 400), rng.randint(200, 900), None,
                            rng.randint(0, 10**6), rng.randint(4096, 2 * 10**6), rng.randint(100, 50_000),
                            rng.randint(100, 200_000)]
        row[RAW_COLUMNS.index(CORES)] = bytes([rng.randint(0, 200), rng.randint(0, 200)])
        data.append(tuple(row))
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO raw ({', '.join(RAW_COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(RAW_COLUMNS))})", data)
    conn.execute("COMMIT")
    conn.close()
    store = SqliteStore(path, instance_id="roll-up", interval_seconds=1.0, history_size=10,
                        clock=lambda: T0 + rows + 120)
    store.flush(600)
    store.close()


def counts(path: Path) -> int:
    """Raw rows in a sound file."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM raw").fetchone()[0])


def quick_check_ms(path: Path, runs: int = 5) -> float:
    """The median time of the quick_check every open runs."""
    times = []
    for _ in range(runs):
        with sqlite3.connect(path) as conn:
            started = time.perf_counter()
            conn.execute("PRAGMA quick_check(1)").fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def damaged_copy(source: Path, target: Path, place: float, size: int, seed: int) -> None:
    shutil.copy(source, target)
    with target.open("r+b") as file:
        file.seek(int(target.stat().st_size * place) + seed * 997)
        file.write(random.Random(seed).randbytes(size))


def salvage(path: Path) -> tuple[int, float]:
    """Raw rows kept by opening the file as the server does, and the seconds it took."""
    started = time.perf_counter()
    open_database(path).close()
    return counts(path), time.perf_counter() - started


def recover(path: Path) -> str:
    """Raw rows the sqlite3 CLI's .recover brings back and its seconds, "failed", or "n/a" (no CLI)."""
    cli = shutil.which("sqlite3")
    if cli is None:
        return "n/a | n/a"
    out = path.with_name("recovered.sqlite3")
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    dump = subprocess.run([cli, str(path), ".recover"], capture_output=True, text=True, check=False)
    subprocess.run([cli, str(out)], input=dump.stdout, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    try:
        with sqlite3.connect(out) as conn:
            return f"{conn.execute('SELECT count(*) FROM raw').fetchone()[0]:,} | {elapsed:.1f}"
    except sqlite3.Error:
        return f"failed ({' '.join(dump.stderr.split())[:40]}) | {elapsed:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=172_800)
    parser.add_argument("--bytes", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        sound = Path(tmp) / "sound.sqlite3"
        build(sound, args.rows)
        print(f"\n`python bench/bench_salvage.py --rows {args.rows} --bytes {args.bytes} --seeds "
              f"{args.seeds}` ({sys.platform}, SQLite {sqlite3.sqlite_version}): "
              f"{sound.stat().st_size / 1e6:.1f} MB, quick_check {quick_check_ms(sound):.0f} ms\n")
        print("| damage at | seed | raw kept (salvage) | raw lost | salvage s | raw kept (.recover) "
              "| .recover s |")
        print("|---|---|---|---|---|---|---|")
        for place in PLACES:
            for seed in range(args.seeds):
                path = Path(tmp) / "history.sqlite3"
                damaged_copy(sound, path, place, args.bytes, seed)
                probe = Path(tmp) / "cli.sqlite3"
                shutil.copy(path, probe)
                kept, seconds = salvage(path)
                print(f"| {place:.0%} | {seed} | {kept:,} | {args.rows - kept:,} | {seconds:.2f} | "
                      f"{recover(probe)} |")
                for leftover in Path(tmp).glob("history.sqlite3*"):
                    leftover.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
