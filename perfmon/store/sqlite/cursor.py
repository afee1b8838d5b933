"""Cursor reads beyond the ring: this instance's raw rows by seq.

The raw tier is keyed by time, not seq, and carries no index on seq (it would cost
about as much as the row). Within one instance seq grows with time, and an instance's
rows all follow those of older instances, so "the first row of this instance after
seq N" is found by a binary search over time: a few dozen primary-key probes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from perfmon.core.schema import HistoryRow
from perfmon.store.series import Record
from perfmon.store.sqlite.codec import RAW_COLUMNS, decode_row
from perfmon.store.sqlite.layouts import LayoutBook

SELECT = f"SELECT {', '.join(RAW_COLUMNS)} FROM raw"
PROBE = "SELECT t, instance, seq FROM raw WHERE t >= ? ORDER BY t LIMIT 1"


def first_after(conn: sqlite3.Connection, instance: int, since: int) -> int | None:
    """The time (ms) of this instance's first row with seq > ``since``, or None if it has none."""
    low, high = conn.execute("SELECT min(t), max(t) FROM raw").fetchone()
    if low is None:
        return None
    best = None
    while low <= high:
        middle = (low + high) // 2
        row = conn.execute(PROBE, (middle,)).fetchone()
        if row is None or row[0] > high:
            high = middle - 1  # no row in [middle, high]
        elif row[1] == instance and row[2] > since:
            best, high = row[0], middle - 1
        else:
            low = row[0] + 1
    return best


def record(conn: sqlite3.Connection, book: LayoutBook, stored: Sequence[Any]) -> Record:
    """A raw table row (RAW_COLUMNS order) as the ring keeps rows: today's columns and the other series."""
    return Record(decode_row(stored), book.values(conn, stored[-2], stored[-1]))


def rows_after(conn: sqlite3.Connection, book: LayoutBook, instance: int, since: int, before_ms: int | None,
               limit: int) -> list[HistoryRow]:
    """This instance's rows with seq > ``since`` and time before ``before_ms``, oldest first."""
    start = first_after(conn, instance, since)
    if start is None or limit <= 0:
        return []
    end = before_ms if before_ms is not None else 2**62
    rows = conn.execute(f"{SELECT} WHERE t >= ? AND t < ? AND instance = ? ORDER BY t LIMIT ?",
                        (start, end, instance, limit)).fetchall()
    return [record(conn, book, row) for row in rows]


def rows_before(conn: sqlite3.Connection, book: LayoutBook, instance: int, before_ms: int | None,
                limit: int) -> list[HistoryRow]:
    """This instance's last ``limit`` rows before ``before_ms``, oldest first."""
    start = first_after(conn, instance, 0)
    if start is None or limit <= 0:
        return []
    end = before_ms if before_ms is not None else 2**62
    rows = conn.execute(f"{SELECT} WHERE t >= ? AND t < ? AND instance = ? ORDER BY t DESC LIMIT ?",
                        (start, end, instance, limit)).fetchall()
    return [record(conn, book, row) for row in reversed(rows)]
