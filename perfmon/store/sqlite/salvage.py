"""Salvaging a damaged history database: its readable rows go into a fresh file, the damaged one is kept.

The fresh file is built beside the damaged one (``<name>.salvage``, same file system) with the
current schema, filled table by table (``copy``), its roll-ups re-derived where only they
were lost, the report written into its ``salvages`` table, synced, and only then swapped in: the
damaged file (and its -wal and -shm) is renamed to ``<name>.corrupt-<time>`` and the fresh one to
``<name>``. A crash before the swap leaves the damaged file in place, salvaged again at the next
start. On the issue's case (7.8 MiB, 172,800 samples, 200 bytes of garbage three quarters in) it
keeps all but the 5 to 7 samples of the page hit, in 0.7-1.4 s (bench/bench_salvage.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import pathname2url

from perfmon.store.base import SalvageReport
from perfmon.store.sqlite.copy import MAX_KEY, MIN_KEY, SOURCE, Span, TableCopier, TableCopy, is_damage
from perfmon.store.sqlite.tiers import LEVELS, roll_up

log = logging.getLogger(__name__)

TABLES = ("instances", "series", "layouts", "raw", "minute", "ten_minute", "hour", "series_minute",
          "series_ten_minute", "series_hour", "salvages")  # copied in this order
TIME_UNITS = {"raw": 1000, "minute": 1, "ten_minute": 1, "hour": 1}  # keys per second of the time tables
KEY_STEPS = {"raw": 1000, "minute": 60, "ten_minute": 600, "hour": 3600, "salvages": 1000,  # keys a row
             "series_minute": 60, "series_ten_minute": 600, "series_hour": 3600}
EARLIEST = 946_684_800  # 2000-01-01: no sample of a time table is older


def aside_name(path: Path) -> Path:
    """A free ``<name>.corrupt-<UTC time>`` beside ``path``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for again in range(1, 100):
        if not aside.exists():
            break
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{again}")
    return aside


def set_aside(path: Path, aside: Path | None = None) -> Path:
    """Rename a damaged database (and its -wal, if it holds anything) to ``aside``; where it went.

    The -shm is only an index of the -wal (SQLite rebuilds it), and an empty -wal holds nothing:
    reading the damaged file makes both, so they are removed rather than kept.
    """
    aside = aside or aside_name(path)
    wal, index = Path(f"{path}-wal"), Path(f"{path}-shm")
    if wal.exists() and wal.stat().st_size:
        os.replace(wal, f"{aside}-wal")
    wal.unlink(missing_ok=True)
    index.unlink(missing_ok=True)
    if path.exists():
        os.replace(path, aside)
    return aside


def salvage(path: Path, problem: str, build: Callable[[sqlite3.Connection], None],
            clock: Callable[[], float] = time.time) -> SalvageReport:
    """Copy what can be read of ``path`` into a fresh file made by ``build``, then swap it in."""
    started = time.monotonic()
    fresh = path.with_name(f"{path.name}.salvage")
    for leftover in (fresh, Path(f"{fresh}-journal")):
        leftover.unlink(missing_ok=True)  # from a salvage interrupted before its swap
    target = sqlite3.connect(f"file:{pathname2url(str(fresh))}", uri=True, isolation_level=None)
    try:
        build(target)
        target.execute("PRAGMA journal_mode=MEMORY")  # a crash while building leaves a file nobody uses
        target.execute("PRAGMA synchronous=OFF")  # synced once, before the swap
        copies = copy_tables(path, target, clock())
        target.execute("BEGIN")
        rebuilt = rebuild_roll_ups(target, copies)
        target.execute("INSERT OR IGNORE INTO instances (id, name, started_ms) SELECT instance, "
                       "'salvaged', min(t) FROM raw GROUP BY instance")  # ids stay unique
        report = make_report(aside_name(path), problem, copies, clock())
        record(target, report)
        target.execute("COMMIT")
    finally:
        target.close()
    aside = swap(path, fresh, Path(report.damaged_file))
    log.error("history database %s was damaged (%s): %s; the damaged file is kept as %s (%.1f s)",
              path, one_line(problem), describe(copies, rebuilt), aside, time.monotonic() - started)
    return report


def plausible_keys(table: str, now: float) -> tuple[int, int]:
    """The keys a table of time can hold: 2000 to a day from now (a damaged cell's key is random)."""
    unit = TIME_UNITS.get(table)
    if unit is None:
        return MIN_KEY, MAX_KEY
    return EARLIEST * unit, int(now + 86400) * unit


def copy_tables(path: Path, target: sqlite3.Connection, now: float) -> list[TableCopy]:
    """Every table of the fresh file that the damaged one has, copied; [] if its schema is unreadable."""
    try:
        target.execute(f"ATTACH DATABASE ? AS {SOURCE}", (f"file:{pathname2url(str(path))}?mode=ro",))
    except sqlite3.Error:
        return []
    try:
        present = {row[0] for row in target.execute(f"SELECT name FROM {SOURCE}.sqlite_master "
                                                    "WHERE type = 'table'")}
        return [TableCopier(target, table, plausible_keys(table, now), KEY_STEPS.get(table, 1)).run()
                for table in TABLES if table in present]
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        return []  # the schema itself is damaged: nothing can be found
    finally:
        target.execute(f"DETACH DATABASE {SOURCE}")


def rebuild_roll_ups(conn: sqlite3.Connection, copies: Sequence[TableCopy]) -> dict[str, int]:
    """Minute, ten-minute and hour points lost between kept ones, made again from finer rows kept."""
    lost = {copy.name: copy.spans for copy in copies}
    rebuilt: dict[str, int] = {}
    for level in LEVELS:
        for before, after in lost.get(level.name, ()):
            if after is None:
                continue  # the newest part: the writer rolls it up at open, from its watermark
            low = 0 if before is None else before + level.seconds
            count = conn.execute(f"SELECT count(*) FROM {level.name}").fetchone()[0]
            done, more = low, low < after
            while more:
                done, more = roll_up(conn, level, done, after)
            made = conn.execute(f"SELECT count(*) FROM {level.name}").fetchone()[0] - count
            rebuilt[level.name] = rebuilt.get(level.name, 0) + made
    return rebuilt


def make_report(aside: Path, problem: str, copies: Sequence[TableCopy], now: float) -> SalvageReport:
    """The counts over all tables, and the time spans that could not be read, merged."""
    kept, lost = sum(copy.kept for copy in copies), sum(copy.lost for copy in copies)
    exact = bool(copies) and all(copy.exact for copy in copies)  # nothing read: how much is unknown
    spans = sorted((seconds(span, TIME_UNITS[copy.name]) for copy in copies if copy.name in TIME_UNITS
                    for span in copy.spans), key=lambda span: -math.inf if span[0] is None else span[0])
    merged: list[tuple[float | None, float | None]] = []
    for span in spans:
        if merged and (merged[-1][1] is None or (span[0] is not None and span[0] <= merged[-1][1])):
            end = merged[-1][1]
            merged[-1] = (merged[-1][0], None if end is None or span[1] is None else max(end, span[1]))
        else:
            merged.append(span)
    return SalvageReport(now, str(aside), one_line(problem), kept, lost, exact, tuple(merged))


def seconds(span: Span, unit: int) -> tuple[float | None, float | None]:
    """A span of keys as Unix seconds."""
    return tuple(None if key is None else key / unit for key in span)  # type: ignore[return-value]


def record(conn: sqlite3.Connection, report: SalvageReport) -> None:
    """Keep the report in the new file, so /api/health can give it after later restarts too."""
    conn.execute("INSERT OR REPLACE INTO salvages (at_ms, damaged_file, problem, kept_rows, lost_rows, "
                 "lost_rows_exact, lost_spans) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (round(report.at * 1000), report.damaged_file, report.problem, report.kept_rows,
                  report.lost_rows, int(report.lost_rows_exact),
                  json.dumps([list(span) for span in report.lost_spans])))


def last_salvage(conn: sqlite3.Connection) -> SalvageReport | None:
    """The newest salvage report kept in the file, or None."""
    row = conn.execute("SELECT at_ms, damaged_file, problem, kept_rows, lost_rows, lost_rows_exact, "
                       "lost_spans FROM salvages ORDER BY at_ms DESC LIMIT 1").fetchone()
    if row is None:
        return None
    spans = tuple((a, b) for a, b in json.loads(row[6]))
    return SalvageReport(row[0] / 1000, row[1], row[2], row[3], row[4], bool(row[5]), spans)


def swap(path: Path, fresh: Path, aside: Path) -> Path:
    """Sync the fresh file, move the damaged one to ``aside`` and put the fresh one in its place."""
    with fresh.open("rb+") as file:
        os.fsync(file.fileno())
    aside = set_aside(path, aside)
    os.replace(fresh, path)
    with contextlib.suppress(OSError):  # not every file system lets a directory be synced
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return aside


def describe(copies: Sequence[TableCopy], rebuilt: dict[str, int]) -> str:
    """What was kept and lost, per table that lost something, in words."""
    kept = sum(copy.kept for copy in copies)
    if not copies:
        return "nothing could be read from it, a new empty database was started"
    parts = []
    for copy in copies:
        if copy.lost or copy.spans:
            lost = f"{copy.lost:,}" if copy.exact else f"at least {copy.lost:,}"
            parts.append(f"{copy.name} lost {lost} rows{when(copy)}")
    made = "".join(f"; {n:,} {name} points made again from finer ones" for name, n in rebuilt.items() if n)
    return f"kept {kept:,} rows in a new file, {', '.join(parts) or 'lost none'}{made}"


def when(copy: TableCopy) -> str:
    """`` between <time> and <time>`` for the first span of a time table, with how many more."""
    if copy.name not in TIME_UNITS or not copy.spans:
        return ""
    before, after = copy.spans[0]
    more = f" (and {len(copy.spans) - 1} more spans)" if len(copy.spans) > 1 else ""
    return f" between {stamp(before, copy.name, 'its start')} and {stamp(after, copy.name, 'its end')}{more}"


def stamp(key: int | None, table: str, edge: str) -> str:
    """A key of a time table as a UTC time, or ``edge`` for None."""
    if key is None:
        return edge
    return datetime.fromtimestamp(key / TIME_UNITS[table], UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def one_line(text: str) -> str:
    """SQLite's multi-line messages (quick_check's) on one line."""
    return " ".join(text.split())
