"""Range reads of the other series (``perfmon.store.series``) from the SQLite file.

Each wanted series' points in a tier are one primary-key range (``series_tiers``), grouped by
bucket in SQL; raw rows' packed values are decoded here for the rows in the range that hold
a wanted series. Which tier and from which time each part is read is ``range``'s choice: the
same as for today's columns, so both agree on every bucket.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping

from perfmon.core.metrics import SeriesKey
from perfmon.store.buckets import Buckets
from perfmon.store.series import steps
from perfmon.store.sqlite.layouts import LayoutBook
from perfmon.store.sqlite.series_tiers import SHIFT, TIME_MASK, key
from perfmon.store.sqlite.varints import unpack


def _tier_sql(name: str) -> str:
    return (f"SELECT CAST(((k & {TIME_MASK}) - :start) / :width AS INTEGER) AS b, min(lo), max(hi), "
            f"sum(total), sum(n) FROM series_{name} WHERE k >= :low AND k < :high GROUP BY b")


TIER_SQL = {name: _tier_sql(name) for name in ("minute", "ten_minute", "hour")}
RAW_SQL = "SELECT t, layout, series FROM raw WHERE t >= ? AND t < ? AND series NOT NULL"


def wanted_ids(book: LayoutBook, conn: sqlite3.Connection,
               keys: Mapping[SeriesKey, None]) -> dict[int, SeriesKey]:
    """The file's ids of the wanted series (a series only in the ring has none yet)."""
    return {i: k for i, k in book.keys(conn).items() if k in keys}


def fold_series_tier(conn: sqlite3.Connection, buckets: Buckets, name: str, low: float,
                     ids: Mapping[int, SeriesKey]) -> None:
    """Fold the wanted series' points of tier ``name`` from ``low`` (Unix s) into ``buckets``."""
    first = math.ceil(low)
    last = math.ceil(buckets.start + buckets.count * buckets.width)
    for series, wanted in ids.items():
        scale = steps(wanted)
        params = {"start": buckets.start, "width": buckets.width, "low": key(series, max(0, first)),
                  "high": key(series, min(last, TIME_MASK))}
        for b, lo, hi, total, n in conn.execute(TIER_SQL[name], params):
            if n and 0 <= b < buckets.count:
                buckets.add_series(b, wanted, lo / scale, hi / scale, total / scale, n)


def fold_series_raw(conn: sqlite3.Connection, book: LayoutBook, buckets: Buckets, low: float,
                    ids: Mapping[int, SeriesKey]) -> None:
    """Fold the wanted series of the raw rows from ``low`` (Unix s) into ``buckets``."""
    picks: dict[int, list[tuple[int, SeriesKey, int]]] = {}
    end_ms = math.ceil((buckets.start + buckets.count * buckets.width) * 1000)
    for t, layout, blob in conn.execute(RAW_SQL, (math.ceil(low * 1000), end_ms)):
        picked = picks.get(layout)
        if picked is None:
            series_ids, keys, steps_of = book.get(conn, layout)
            picked = picks[layout] = [(p, keys[p], steps_of[p]) for p, s in enumerate(series_ids) if s in ids]
        if not picked:
            continue
        i = buckets.index(t / 1000)
        if i is None or t / 1000 < low:
            continue
        values = unpack(blob)
        for position, wanted, scale in picked:
            value = values[position] if position < len(values) else None
            if value is not None:
                number = value / scale
                buckets.add_series(i, wanted, number, number, number, 1)


__all__ = ["SHIFT", "fold_series_raw", "fold_series_tier", "wanted_ids"]
