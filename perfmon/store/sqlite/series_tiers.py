"""Roll-ups and trims of the other series (``perfmon.store.series``): one row per series and period.

A minute is 60 times fewer rows than raw, so the tiers keep one row per (series, period) rather
than a BLOB per period: ``k`` is the series id shifted left by ``SHIFT`` bits plus the period's
start (Unix s), so one series' points over a time range are one primary-key range, and every
series' are found by walking the ``series`` table (a CROSS JOIN loop, no index). Each row keeps
count, min, max and sum in the field's integer steps, as today's columns do. The raw tier's
packed values are decoded here, where SQLite cannot look.
"""

from __future__ import annotations

import sqlite3

from perfmon.store.sqlite.varints import unpack, unpack_ids

SHIFT = 40  # bits of a period's start in k: Unix seconds up to the year 36812
TIME_MASK = (1 << SHIFT) - 1
SOURCES = {"minute": "raw", "ten_minute": "minute", "hour": "minute"}


def key(series: int, t: int) -> int:
    """The tier key of one series' period starting at ``t`` (Unix s)."""
    return (series << SHIFT) | t


def _from_minutes_sql(name: str, seconds: int) -> str:
    return (f"INSERT OR REPLACE INTO series_{name} (k, n, lo, hi, total) "
            f"SELECT ((m.k >> {SHIFT}) << {SHIFT}) | (((m.k & {TIME_MASK}) / {seconds}) * {seconds}) AS kk, "
            f"sum(m.n), min(m.lo), max(m.hi), sum(m.total) FROM series s CROSS JOIN series_minute m "
            f"ON m.k >= (s.id << {SHIFT}) + ? AND m.k < (s.id << {SHIFT}) + ? GROUP BY kk")


FROM_MINUTES = {"ten_minute": _from_minutes_sql("ten_minute", 600), "hour": _from_minutes_sql("hour", 3600)}
INSERT = {name: f"INSERT OR REPLACE INTO series_{name} (k, n, lo, hi, total) VALUES (?, ?, ?, ?, ?)"
          for name in SOURCES}


def roll_series(conn: sqlite3.Connection, name: str, seconds: int, low: int, high: int) -> None:
    """The series points of tier ``name`` for the periods in [low, high) (Unix s), from the finer tier."""
    if name in FROM_MINUTES:
        conn.execute(FROM_MINUTES[name], (low, high))
        return
    layouts = {int(i): unpack_ids(blob) for i, blob in conn.execute("SELECT id, series FROM layouts")}
    points: dict[int, list[int]] = {}
    rows = conn.execute("SELECT t, layout, series FROM raw WHERE t >= ? AND t < ? AND series NOT NULL",
                        (low * 1000, high * 1000))
    for t, layout, blob in rows:
        period = t // 1000 // seconds * seconds
        for series, value in zip(layouts.get(layout, ()), unpack(blob), strict=False):
            if value is None:
                continue
            k = (series << SHIFT) | period
            point = points.get(k)
            if point is None:
                points[k] = [1, value, value, value]
            else:
                point[0] += 1
                point[1] = min(point[1], value)
                point[2] = max(point[2], value)
                point[3] += value
    conn.executemany(INSERT[name], [(k, *point) for k, point in points.items()])


def trim_series(conn: sqlite3.Connection, table: str) -> None:
    """Drop the series points of a tier older than its oldest point left (after a trim of ``table``)."""
    if table not in SOURCES:
        return  # raw: the packed values go with their rows
    oldest = conn.execute(f"SELECT min(t) FROM {table}").fetchone()[0]
    before = TIME_MASK if oldest is None else int(oldest)
    conn.execute(f"DELETE FROM series_{table} WHERE k IN (SELECT m.k FROM series s CROSS JOIN "
                 f"series_{table} m ON m.k >= (s.id << {SHIFT}) AND m.k < (s.id << {SHIFT}) + ?)", (before,))
