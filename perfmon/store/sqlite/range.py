"""Time-range reads of the SQLite store, bucketed exactly as the ring does (``perfmon.store.buckets``).

The tier is chosen by ``choose_tier``; SQLite groups its rows by bucket (min, max, sum and
count per series, and the per-CPU blobs concatenated as hex, summed here with C-level
slicing), joining an ordered table of bucket numbers so that GROUP BY needs no sort. The
cost is SQLite's: about 37 aggregate steps a row, so a 30-day range at 1,000 points, read
from 43,200 minute rows, is the slowest (see bench/bench_store.py).

A coarse tier holds only finished periods. Its newest, not yet rolled-up part is not left
null: it is read from the next finer tier, then from raw, and the last second or so, not
yet written, from the ring, so a range always reaches its newest sample.
"""

from __future__ import annotations

import math
import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow
from perfmon.store.base import RangeResult
from perfmon.store.buckets import (
    CORES,
    VALUE_COLUMNS,
    Buckets,
    TierSpan,
    bucket_seconds,
    choose_tier,
    fold_series,
)
from perfmon.store.series import layouts_keys, matching
from perfmon.store.sqlite.codec import CORE_NULL, CORE_STEPS, SCALE_LIST, decode_cores, unpack_sums
from perfmon.store.sqlite.layouts import LayoutBook
from perfmon.store.sqlite.series_range import fold_series_raw, fold_series_tier, wanted_ids
from perfmon.store.sqlite.tiers import LEVELS, Level

TIME = HISTORY_COLUMNS.index("timestamp")
POSITIONS = tuple((c, HISTORY_COLUMNS.index(c)) for c in VALUE_COLUMNS)
AT_CORES = HISTORY_COLUMNS.index(CORES)

_RAW_AGGREGATES = ", ".join(f"min({c}), max({c}), sum({c}), count({c})" for c in VALUE_COLUMNS)
_TIER_AGGREGATES = ", ".join(f"min({c}_min), max({c}_max), sum({c}_sum), sum({c}_n)" for c in VALUE_COLUMNS)
# Per bucket: readings, narrowest and widest blob, whether a CPU is null, the blobs as hex.
_RAW_CORES = (f"count({CORES}), min(length({CORES})), max(length({CORES})), "
              f"max(instr({CORES}, x'{CORE_NULL:02x}')), group_concat(hex({CORES}), '')")
_TIER_CORES = (f"sum({CORES}_n), min(length({CORES}_sum)), max(length({CORES}_sum)), 0, "
               f"group_concat(hex({CORES}_sum), '')")
# Each bucket's rows are found by primary key from an ordered table of bucket numbers, so
# GROUP BY needs no sort (CROSS JOIN keeps that loop order); a row's bucket is checked with the very
# expression the ring uses.
_RAW_JOIN = ("raw ON t >= (:start + k.i * :width) * 1000 - 1 "
             "AND t < (:start + (k.i + 1) * :width) * 1000 + 1 "
             "AND CAST((t / 1000.0 - :start) / :width AS INTEGER) = k.i AND t / 1000.0 >= :low")
RAW_SQL = (f"SELECT k.i, {_RAW_AGGREGATES}, {_RAW_CORES} FROM temp.numbers k CROSS JOIN {_RAW_JOIN} "
           "WHERE k.i >= :first AND k.i < :count GROUP BY k.i")
ONE_RAW_BUCKET = f"SELECT {CORES}, 1 FROM temp.numbers k CROSS JOIN {_RAW_JOIN} WHERE k.i = :b"


def _tier_join(name: str) -> str:
    return (f"{name} ON t >= :start + k.i * :width - 1 AND t < :start + (k.i + 1) * :width + 1 "
            f"AND CAST((t - :start) / :width AS INTEGER) = k.i AND t >= :low")


TIER_SQL = {level.name: f"SELECT k.i, {_TIER_AGGREGATES}, {_TIER_CORES} FROM temp.numbers k CROSS JOIN "
                        f"{_tier_join(level.name)} WHERE k.i >= :first AND k.i < :count GROUP BY k.i"
            for level in LEVELS}
ONE_TIER_BUCKET = {level.name: f"SELECT {CORES}_sum, {CORES}_n FROM temp.numbers k CROSS JOIN "
                               f"{_tier_join(level.name)} WHERE k.i = :b AND {CORES}_n > 0"
                   for level in LEVELS}
NUMBERS = 10_001  # bucket numbers made when a reader opens; more are added if a read needs them


def prepare_reader(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make ``conn`` a reader: its table of bucket numbers, then read-only."""
    conn.execute("CREATE TEMP TABLE numbers (i INTEGER PRIMARY KEY)")
    _add_numbers(conn, NUMBERS)
    conn.execute("PRAGMA query_only=1")
    return conn


def _add_numbers(conn: sqlite3.Connection, count: int) -> None:
    conn.execute("INSERT OR IGNORE INTO temp.numbers WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL "
                 "SELECT i + 1 FROM n WHERE i + 1 < ?) SELECT i FROM n", (count,))


def _numbers_for(conn: sqlite3.Connection, count: int) -> None:
    if count > NUMBERS and conn.execute("SELECT max(i) FROM temp.numbers").fetchone()[0] < count - 1:
        conn.execute("PRAGMA query_only=0")
        try:
            _add_numbers(conn, count)
        finally:
            conn.execute("PRAGMA query_only=1")


def _oldest(conn: sqlite3.Connection, table: str) -> float | None:
    value = conn.execute(f"SELECT min(t) FROM {table}").fetchone()[0]
    return None if value is None else value / (1000 if table == "raw" else 1)


def spans(conn: sqlite3.Connection, interval: float, ring_oldest: float | None) -> list[TierSpan]:
    """The tiers this file can answer from, finest first, with their oldest points."""
    raw = _oldest(conn, "raw")
    if raw is None or (ring_oldest is not None and ring_oldest < raw):
        raw = ring_oldest
    return [TierSpan("raw", interval, raw),
            *(TierSpan(level.name, level.seconds, _oldest(conn, level.name)) for level in LEVELS)]


def read_range(conn: sqlite3.Connection, tail: Sequence[HistoryRow], interval: float, start: float,
               end: float, points: int, *, selectors: Sequence[Selector] = (),
               book: LayoutBook | None = None) -> RangeResult:
    """At most ``points`` equal buckets over [start, end); ``tail`` is the ring's rows (newest last).

    With ``selectors`` (and the store's ``book``), the other series they pick come too.
    """
    tiers = spans(conn, interval, tail[0][TIME] if tail else None)
    tier = choose_tier(tiers, start, end, points)
    buckets = Buckets.over(start, end, bucket_seconds(tier, start, end, points))
    book = book or LayoutBook()
    ids = {}
    if selectors:
        wanted = matching(selectors, [*book.keys(conn).values(), *layouts_keys(tail)])
        buckets.want(wanted)
        ids = wanted_ids(book, conn, dict.fromkeys(wanted))
    _numbers_for(conn, buckets.count)
    low = start
    for level in reversed(LEVELS[:[t.name for t in tiers].index(tier.name)]):
        _fold_tier(conn, buckets, level, low)
        if ids:
            fold_series_tier(conn, buckets, level.name, low, ids)
        newest = conn.execute(f"SELECT max(t) FROM {level.name}").fetchone()[0]
        low = low if newest is None else max(low, newest + level.seconds)  # finer tiers from here on
    _fold_raw(conn, buckets, low)
    if ids:
        fold_series_raw(conn, book, buckets, low, ids)
    newest_ms = conn.execute("SELECT max(t) FROM raw").fetchone()[0]
    written = -math.inf if newest_ms is None else newest_ms / 1000
    unwritten = tail[bisect_right(tail, written, key=lambda row: row[TIME]):]
    fold_rows(buckets, unwritten)
    fold_series(buckets, unwritten)
    return buckets.result(tier.name, end)


def _params(buckets: Buckets, low: float) -> dict[str, float]:
    """The parameters of the range SQL: buckets from the one ``low`` falls in."""
    first = max(0, math.floor((low - buckets.start) / buckets.width))
    return {"start": buckets.start, "width": buckets.width, "low": low, "first": first,
            "count": buckets.count}


def _fold_raw(conn: sqlite3.Connection, buckets: Buckets, low: float) -> None:
    params = _params(buckets, low)
    _fold_groups(conn, buckets, conn.execute(RAW_SQL, params).fetchall(), None, params)


def _fold_tier(conn: sqlite3.Connection, buckets: Buckets, level: Level, low: float) -> None:
    params = _params(buckets, low)
    _fold_groups(conn, buckets, conn.execute(TIER_SQL[level.name], params).fetchall(), level, params)


def _fold_groups(conn: sqlite3.Connection, buckets: Buckets, rows: list[Any], level: Level | None,
                 params: dict[str, float]) -> None:
    """Fold the rows of RAW_SQL or TIER_SQL (one per bucket) into ``buckets``, a column at a time."""
    rows = [row for row in rows if 0 <= row[0] < buckets.count]
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    for k, column in enumerate(VALUE_COLUMNS):
        _merge(buckets, column, SCALE_LIST[k], columns[0], *columns[1 + 4 * k: 5 + 4 * k])
    for row in rows:
        _fold_cores(conn, buckets, row[0], row[-5:], level, params)


def _merge(buckets: Buckets, column: str, scale: int, indexes: Sequence[int],
           *aggregates: Sequence[Any]) -> None:
    """Buckets.add for many buckets at once: the hot loop of a range read, kept free of calls."""
    mins, maxs, sums, counts = (buckets.mins[column], buckets.maxs[column], buckets.sums[column],
                                buckets.counts[column])
    for i, low, high, total, n in zip(indexes, *aggregates, strict=True):
        if not n:
            continue
        low, high = low / scale, high / scale
        if counts[i]:
            mins[i] = min(low, mins[i])
            maxs[i] = max(high, maxs[i])
        else:
            mins[i], maxs[i] = low, high
        sums[i] += total / scale
        counts[i] += n


def _fold_cores(conn: sqlite3.Connection, buckets: Buckets, i: int, cores: Sequence[Any], level: Level | None,
                params: dict[str, float]) -> None:
    """Fold one bucket's per-CPU readings: summed from the hex of its blobs when they are alike."""
    readings, narrowest, widest, has_null, hexed = cores
    if not readings:
        return
    if narrowest == widest and not has_null:
        values: Sequence[int] = bytes.fromhex(hexed) if level is None else unpack_sums(bytes.fromhex(hexed))
        cpus = narrowest if level is None else narrowest // 4
        sums = [sum(values[k::cpus]) for k in range(cpus)]
        buckets.add_cores(i, [s / readings / CORE_STEPS for s in sums], readings)
        return
    # The CPU count changed or a CPU was null inside the bucket: fold its readings one by one.
    sql = ONE_RAW_BUCKET if level is None else ONE_TIER_BUCKET[level.name]
    _fold_cores_one_by_one(buckets, i, conn.execute(sql, {**params, "b": i}), raw=level is None)


def _fold_cores_one_by_one(buckets: Buckets, i: int, rows: Iterable[tuple[bytes | None, int]], *,
                           raw: bool) -> None:
    for blob, n in rows:
        if raw:
            buckets.add_cores(i, decode_cores(blob))
        elif blob is not None:
            buckets.add_cores(i, [s / n / CORE_STEPS for s in unpack_sums(blob)], n)


def fold_rows(buckets: Buckets, rows: Iterable[HistoryRow]) -> None:
    """Fold history rows (as the ring keeps them) into ``buckets``, as ``buckets.from_rows`` does."""
    for row in rows:
        i = buckets.index(row[TIME])
        if i is None:
            continue
        for column, position in POSITIONS:
            buckets.add_value(i, column, row[position])
        buckets.add_cores(i, row[AT_CORES])
