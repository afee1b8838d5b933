"""Roll-ups: finished minutes aggregated from raw samples, finished hours from minutes.

Each minute or hour row keeps, per series, min, max, sum and count in the raw tier's
integer units (so coarser sums are exact), and the per-CPU sums with the number of
readings in them; the other series have tables of their own (``series_tiers``). Rows are
keyed by their start in Unix seconds. A tier's *watermark* is the time before which it is
complete; the store rolls up as samples cross a minute, and on open it catches up from
whatever raw holds, so a restart or a crash leaves no hole.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from perfmon.store.base import Tier
from perfmon.store.buckets import CORES, VALUE_COLUMNS
from perfmon.store.sqlite.codec import CORE_NULL, pack_sums, unpack_sums
from perfmon.store.sqlite.series_tiers import roll_series

STEP_SECONDS = {"minute": 3600, "ten_minute": 86400, "hour": 86400}  # the most time one roll-up step covers


@dataclass(frozen=True, slots=True)
class Level:
    """How one tier is made from the one below it."""

    name: Tier  # the table
    seconds: int  # its resolution
    source: str  # the finer table
    source_unit: int  # the finer table's keys per second (raw: ms)


MINUTE = Level("minute", 60, "raw", 1000)
# Ten minutes: not a retention tier of its own (it lives as long as the minutes), but the one that
# makes a week or a month at 1,000 points cheap to read: a tenth of the minute rows.
TEN_MINUTE = Level("ten_minute", 600, "minute", 1)
HOUR = Level("hour", 3600, "minute", 1)
LEVELS = (MINUTE, TEN_MINUTE, HOUR)  # finest first


def _aggregate_sql(level: Level) -> str:
    key = f"(t / {level.seconds * level.source_unit}) * {level.seconds}"
    if level.source == "raw":
        parts = [f"min({c}), max({c}), sum({c}), count({c})" for c in VALUE_COLUMNS]
        count = "count(*)"
    else:
        parts = [f"min({c}_min), max({c}_max), sum({c}_sum), sum({c}_n)" for c in VALUE_COLUMNS]
        count = "sum(n)"
    columns = ", ".join(f"{c}_min, {c}_max, {c}_sum, {c}_n" for c in VALUE_COLUMNS)
    return (f"INSERT OR REPLACE INTO {level.name} (t, n, {columns}) SELECT {key} AS k, {count}, "
            f"{', '.join(parts)} FROM {level.source} WHERE t >= ? AND t < ? GROUP BY k")


AGGREGATE_SQL = {level.name: _aggregate_sql(level) for level in LEVELS}


def watermark(conn: sqlite3.Connection, level: Level) -> int | None:
    """The time (s) before which ``level`` is complete, from what the file holds; None: nothing yet."""
    newest = conn.execute(f"SELECT max(t) FROM {level.name}").fetchone()[0]
    if newest is not None:
        return int(newest) + level.seconds
    oldest = conn.execute(f"SELECT min(t) FROM {level.source}").fetchone()[0]
    if oldest is None:
        return None
    return int(oldest) // level.source_unit // level.seconds * level.seconds


def roll_up(conn: sqlite3.Connection, level: Level, done: int, until: int) -> tuple[int, bool]:
    """Aggregate one step of finished periods in [done, until): the new watermark, and whether more remain.

    Periods with no data are skipped in one stride, so a long gap costs one query.
    """
    first = conn.execute(f"SELECT min(t) FROM {level.source} WHERE t >= ? AND t < ?",
                         (done * level.source_unit, until * level.source_unit)).fetchone()[0]
    if first is None:
        return until, False
    low = int(first) // level.source_unit // level.seconds * level.seconds
    high = min(until, low + STEP_SECONDS[level.name])
    bounds = (low * level.source_unit, high * level.source_unit)
    conn.execute(AGGREGATE_SQL[level.name], bounds)
    _roll_cores(conn, level, bounds)
    roll_series(conn, level.name, level.seconds, low, high)
    return high, high < until


def _roll_cores(conn: sqlite3.Connection, level: Level, bounds: tuple[int, int]) -> None:
    """The per-CPU sums of each new row, from the readings (raw) or sums (minute) under it."""
    groups: dict[int, list[tuple[bytes, int]]] = defaultdict(list)
    if level.source == "raw":
        rows = conn.execute(f"SELECT t, {CORES} FROM raw WHERE t >= ? AND t < ? AND {CORES} NOT NULL",
                            bounds)
        for t, blob in rows:
            if CORE_NULL not in blob:  # a reading with a CPU missing is left out, as in Buckets
                groups[t // 1000 // level.seconds * level.seconds].append((blob, 1))
    else:
        rows = conn.execute(f"SELECT t, {CORES}_sum, {CORES}_n FROM minute WHERE t >= ? AND t < ? "
                            f"AND {CORES}_n > 0", bounds)
        for t, blob, n in rows:
            groups[t // level.seconds * level.seconds].append((blob, n))
    conn.executemany(f"UPDATE {level.name} SET {CORES}_sum = ?, {CORES}_n = ? WHERE t = ?",
                     [(*core_sums(parts, raw=level.source == "raw"), t) for t, parts in groups.items()])


def core_sums(parts: Iterable[tuple[bytes, int]], *, raw: bool) -> tuple[bytes, int]:
    """Per-CPU sums over readings (raw bytes) or sums (packed uint32) and how many readings they hold.

    When the CPU count changed inside the period, the count with the most readings wins.
    """
    rows = [(blob if raw else unpack_sums(blob), n) for blob, n in parts]
    support: Counter[int] = Counter()
    for values, n in rows:
        support[len(values)] += n
    cpus = support.most_common(1)[0][0]
    sums, total = [0] * cpus, 0
    for values, n in rows:
        if len(values) == cpus:
            sums = [s + v for s, v in zip(sums, values, strict=True)]
            total += n
    return pack_sums(sums), total
