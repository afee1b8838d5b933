"""Retention and the size cap, in small steps: no delete ever holds the database for long.

Every step deletes at most ``STEP_ROWS`` rows in its own transaction, so the writer
thread interleaves them with new samples. Free pages beyond a small reserve are handed
back to the file system with ``incremental_vacuum`` (new files are made with
``auto_vacuum=INCREMENTAL``), so trimming really shrinks the file. What the size cap drops is
told in one INFO line when a trim ends (``TrimLog``): at start, and then at most once an hour.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from perfmon.core.units import size
from perfmon.store.base import Retention, Tier
from perfmon.store.sqlite.series_tiers import trim_series

log = logging.getLogger(__name__)

STEP_ROWS = 5000
FREE_RESERVE_PAGES = 256  # free pages kept for the next inserts rather than returned and regrown
VACUUM_PAGES = 4096  # the most pages one vacuum step returns
# What the size cap takes first, with about how many bytes a row of it holds (tiers: with 2-8 CPUs).
TRIM_ORDER = {"raw": 40, "minute": 150, "ten_minute": 150, "hour": 150}
TRIM_NAMES = {"raw": "raw samples", "minute": "minute points", "ten_minute": "ten-minute points",
              "hour": "hour points"}
TRIM_LOG_SECONDS = 3600.0  # after the first, trims are told at most this often (summed up)


def _trim(conn: sqlite3.Connection, table: str, before: float | None = None, rows: int = STEP_ROWS) -> int:
    """Delete up to ``rows`` of the oldest rows of ``table`` (those before ``before``, if given)."""
    where = "" if before is None else "WHERE t < ?"
    params: tuple[float, ...] = () if before is None else (before,)
    cursor = conn.execute(f"DELETE FROM {table} WHERE t IN "
                          f"(SELECT t FROM {table} {where} ORDER BY t LIMIT {int(rows)})", params)
    if cursor.rowcount:
        trim_series(conn, table)
    return cursor.rowcount


def _earlier(limit: float, done: int | None) -> float:
    return limit if done is None else min(limit, done)


def retention_step(conn: sqlite3.Connection, retention: Retention, now: float,
                   done: Mapping[Tier, int | None]) -> bool:
    """One step of each tier's retention; True if more is due.

    Raw rows not yet rolled up into minutes (and minutes not yet in ten minutes and hours)
    are kept; ``done`` is each tier's watermark. Ten-minute points live as long as minutes.
    """
    coarse = [d for d in (done["ten_minute"], done["hour"]) if d is not None]
    cutoffs = {
        "raw": _earlier(now - retention.raw_seconds, done["minute"]) * 1000,
        "minute": _earlier(now - retention.minute_seconds, min(coarse, default=None)),
        "ten_minute": now - retention.minute_seconds,
        "hour": now - retention.hour_seconds,
    }
    more = False
    for table, cutoff in cutoffs.items():
        more = _trim(conn, table, cutoff) >= STEP_ROWS or more
    return more


def pages(conn: sqlite3.Connection, pragma: str) -> int:
    """One page-count PRAGMA (page_count, freelist_count, page_size) as an int."""
    return int(conn.execute(f"PRAGMA {pragma}").fetchone()[0])


def data_bytes(conn: sqlite3.Connection) -> int:
    """Bytes of the file that hold data (its size less its free pages)."""
    return (pages(conn, "page_count") - pages(conn, "freelist_count")) * pages(conn, "page_size")


def reserve_pages(conn: sqlite3.Connection, max_bytes: int) -> int:
    """Free pages kept in the file for the next inserts: FREE_RESERVE_PAGES, less under a small cap."""
    return min(FREE_RESERVE_PAGES, max_bytes // pages(conn, "page_size") // 8)


def size_step(conn: sqlite3.Connection, max_bytes: int) -> tuple[str, int] | None:
    """Over the cap: delete about the excess from the oldest rows of the finest tier that has any.

    The cap bounds the file: its data and the free pages it keeps (the WAL beside it is cut back to
    ``journal_size_limit`` after each checkpoint). The table and rows it deleted, or None; the caller
    steps again, as rows free pages only when a whole page empties.
    """
    excess = data_bytes(conn) + reserve_pages(conn, max_bytes) * pages(conn, "page_size") - max_bytes
    if excess <= 0:
        return None
    for table, row_bytes in TRIM_ORDER.items():
        deleted = _trim(conn, table, rows=min(STEP_ROWS, excess // row_bytes + 1))
        if deleted:
            return table, deleted
    return None


class TrimLog:
    """Sums what the size cap drops and tells it in one INFO line when a trim ends."""

    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.dropped: Counter[str] = Counter()
        self.told_at: float | None = None

    def note(self, conn: sqlite3.Connection, step: tuple[str, int] | None) -> None:
        """Count one size_step's deletion; once the cap is met (None), tell what was dropped, if due."""
        if step is not None:
            self.dropped[step[0]] += step[1]
            return
        now = self.clock()
        if not self.dropped or (self.told_at is not None and now - self.told_at < TRIM_LOG_SECONDS):
            return
        log.info("history database: %s to keep the database under %s (--max-db-size)",
                 "; ".join(self._dropped(conn, table) for table in TRIM_ORDER if self.dropped[table]),
                 size(self.max_bytes))
        self.dropped.clear()
        self.told_at = now

    def _dropped(self, conn: sqlite3.Connection, table: str) -> str:
        oldest = conn.execute(f"SELECT min(t) FROM {table}").fetchone()[0]
        what = f"dropped {self.dropped[table]:,} {TRIM_NAMES[table]}"
        if oldest is None:
            return f"{what} (all of them)"
        seconds = oldest / (1000 if table == "raw" else 1)
        return f"{what} older than {datetime.fromtimestamp(seconds, UTC):%Y-%m-%d %H:%M:%S} UTC"


def vacuum_step(conn: sqlite3.Connection, max_bytes: int) -> bool:
    """Return free pages beyond the reserve to the file system; True if more remain."""
    excess = pages(conn, "freelist_count") - reserve_pages(conn, max_bytes)
    if excess <= 0:
        return False
    # executescript steps it to the end: execute() would free one page (one step) and stop
    conn.executescript(f"PRAGMA incremental_vacuum({min(excess, VACUUM_PAGES)})")
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()  # in WAL mode the file shrinks here
    return excess > VACUUM_PAGES
