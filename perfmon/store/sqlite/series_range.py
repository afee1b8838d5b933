"""Range reads of the other series (``perfmon.store.series``) from the SQLite file.

Each wanted series' points in a tier are one primary-key range (``series_tiers``), grouped by
bucket in SQL and folded into the buckets a series at a time, with no call per bucket. Of a
raw row only the varints at the layout's wanted positions are found (``varints.picker``: one
regular expression, which stops at the last of them) and decoded. Which tier and from which
time each part is read is ``range``'s choice: the same as for today's columns, so both agree
on every bucket.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from perfmon.core.metrics import SeriesKey
from perfmon.store.buckets import Buckets
from perfmon.store.series import steps
from perfmon.store.sqlite.layouts import LayoutBook
from perfmon.store.sqlite.series_tiers import SHIFT, TIME_MASK, key
from perfmon.store.sqlite.varints import Picker, decode, picker, unpack

Aggregates = tuple[list[Any], list[Any], list[float], list[int]]  # a series' of Buckets.extra


def _tier_sql(name: str) -> str:
    return (f"SELECT CAST(((k & {TIME_MASK}) - :start) / :width AS INTEGER) AS b, min(lo), max(hi), "
            f"sum(total), sum(n) FROM series_{name} WHERE k >= :low AND k < :high GROUP BY b")


TIER_SQL = {name: _tier_sql(name) for name in ("minute", "ten_minute", "hour")}
RAW_SQL = "SELECT t, layout, series FROM raw WHERE t >= ? AND t < ? AND series NOT NULL"


class Picked(NamedTuple):
    """What a raw row of one layout gives: the wanted positions, their finder, aggregates and steps."""

    positions: tuple[int, ...]
    pick: Picker
    aggregates: tuple[Aggregates, ...]
    scales: tuple[int, ...]


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
        params = {"start": buckets.start, "width": buckets.width, "low": key(series, max(0, first)),
                  "high": key(series, min(last, TIME_MASK))}
        merge(buckets.extra[wanted], steps(wanted), buckets.count, conn.execute(TIER_SQL[name], params))


def merge(aggregates: Aggregates, scale: int, count: int, rows: Iterable[Sequence[Any]]) -> None:
    """``Buckets.add_series`` for one series' rows of TIER_SQL (bucket, min, max, sum, count in steps)."""
    mins, maxs, sums, counts = aggregates
    for b, lo, hi, total, n in rows:
        if not n or not 0 <= b < count:
            continue
        low, high = lo / scale, hi / scale
        if counts[b]:
            mins[b], maxs[b] = min(low, mins[b]), max(high, maxs[b])
        else:
            mins[b], maxs[b] = low, high
        sums[b] += total / scale
        counts[b] += n


def fold_series_raw(conn: sqlite3.Connection, book: LayoutBook, buckets: Buckets, low: float,
                    ids: Mapping[int, SeriesKey]) -> None:
    """Fold the wanted series of the raw rows from ``low`` (Unix s) into ``buckets``."""
    picks: dict[int, Picked | None] = {}
    end_ms = math.ceil((buckets.start + buckets.count * buckets.width) * 1000)
    rows = conn.execute(RAW_SQL, (math.ceil(low * 1000), end_ms))
    for layout, run in groupby(rows, key=itemgetter(1)):  # a layout lasts while the rows stay the same
        if layout not in picks:
            picks[layout] = picked_of(buckets, book.get(conn, layout), ids)
        picked = picks[layout]
        if picked is not None:
            fold_rows(picked, buckets, low, run)


def picked_of(buckets: Buckets, layout: tuple[tuple[int, ...], Sequence[SeriesKey], Sequence[int]],
              ids: Mapping[int, SeriesKey]) -> Picked | None:
    """What to take of a layout's rows (from ``LayoutBook.get``); None when it has no wanted series."""
    series_ids, keys, steps_of = layout
    positions = tuple(p for p, s in enumerate(series_ids) if s in ids)
    if not positions:
        return None
    return Picked(positions, picker(positions), tuple(buckets.extra[keys[p]] for p in positions),
                  tuple(steps_of[p] for p in positions))


def fold_rows(picked: Picked, buckets: Buckets, low: float, rows: Iterable[tuple[int, int, bytes]]) -> None:
    """Fold raw rows (t in ms, layout, BLOB) of one layout from ``low`` (Unix s), a value at a time as
    ``Buckets.add_series`` does (whole steps over a step count are never NaN nor -0.0: comparisons
    pick as min and max do). ``varints.decode`` is inlined for up to 4 bytes: a call costs a quarter more."""
    start, width, count = buckets.start, buckets.width, buckets.count
    pairs = tuple(zip(picked.aggregates, picked.scales, strict=True))
    for t, _, blob in rows:
        seconds = t / 1000
        i = math.floor((seconds - start) / width)  # Buckets.index
        if not 0 <= i < count or seconds < low:
            continue
        found = picked.pick(blob)
        if found is None:  # fewer values than the layout has series: the missing ones are null
            fold_values(picked, i, unpack(blob))
            continue
        for varint, ((mins, maxs, sums, counts), scale) in zip(found.groups(), pairs, strict=True):
            whole = int.from_bytes(varint, "little")
            code = (whole & 0x7F) | (whole >> 1 & 0x3F80) | (whole >> 2 & 0x1FC000) | (whole >> 3 & 0xFE00000)
            value = decode(varint) if whole >> 32 else None if not code else (
                (code - 1) >> 1 if code & 1 else -(code >> 1))
            if value is None:
                continue
            number = value / scale
            if not counts[i]:
                mins[i] = maxs[i] = number
            elif number < mins[i]:
                mins[i] = number
            elif number > maxs[i]:
                maxs[i] = number
            sums[i] += number
            counts[i] += 1


def fold_values(picked: Picked, i: int, every: Sequence[int | None]) -> None:
    """Fold the wanted values of a row's decoded values into bucket ``i`` (past their end: null)."""
    for position, (mins, maxs, sums, counts), scale in zip(picked.positions, picked.aggregates, picked.scales,
                                                           strict=True):
        value = every[position] if position < len(every) else None
        if value is None:
            continue
        number = value / scale
        mins[i], maxs[i] = (min(number, mins[i]), max(number, maxs[i])) if counts[i] else (number, number)
        sums[i] += number
        counts[i] += 1


__all__ = ["SHIFT", "fold_series_raw", "fold_series_tier", "wanted_ids"]
