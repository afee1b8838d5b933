"""The durable history: samples kept in a SQLite file in raw, minute and hour tiers.

The event loop only appends to the in-memory ring (the live tail, which answers recent
cursor reads) and puts the row on the writer's queue; the writer thread owns the file
(``writer``). Reads that need the file run in worker threads, each with its own
read-only connection: WAL lets them read while the writer writes.

Layout (``schema``): ``raw`` keyed by time in ms with scaled integers, one byte per CPU
and the other series packed in a BLOB (``codec``, ``varints``, ``layouts``), ``minute``,
``ten_minute`` and ``hour`` with min, max, sum and count per column (``tiers``) and per
other series (``series_tiers``), ``instances`` naming each server run. Retention and the size
cap trim in small steps (``upkeep``).

A damaged file is salvaged when it is opened (``salvage``); the last salvage's report is
read from the file for ``status()``. Damage met while running (a read that hits SQLITE_CORRUPT)
is logged once, says ``damaged`` in ``status()``, and reads are answered from the ring until a
restart salvages the file: quick_check at every open finds it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.schema import HistoryRow
from perfmon.store.base import SALVAGED_SECONDS, HistorySlice, RangeResult, Retention, Status, StoreStatus
from perfmon.store.ring import RingStore, slice_rows
from perfmon.store.series import Layouts
from perfmon.store.sqlite.codec import TIME, to_ms
from perfmon.store.sqlite.copy import is_damage
from perfmon.store.sqlite.cursor import rows_after, rows_before
from perfmon.store.sqlite.journal import Journal, open_journal
from perfmon.store.sqlite.layouts import LayoutBook
from perfmon.store.sqlite.range import prepare_reader, read_range
from perfmon.store.sqlite.salvage import last_salvage, one_line
from perfmon.store.sqlite.schema import connect, open_database, unusable
from perfmon.store.sqlite.writer import COMMIT_SECONDS, JOURNAL_COMMIT_SECONDS, Writer, WriteStats

log = logging.getLogger(__name__)

DEFAULT_RETENTION = Retention()
MAX_LIMIT = 86_400  # the most rows one cursor read may ask for (beyond the ring, from the file)
CLOSE_SECONDS = 10.0


class SqliteStore:
    """A HistoryStore on a SQLite file; its ring keeps the last ``history_size`` samples in memory."""

    def __init__(self, path: Path, *, instance_id: str, interval_seconds: float, history_size: int,
                 retention: Retention = DEFAULT_RETENTION, clock: Callable[[], float] = time.time,
                 pragmas: Mapping[str, int] | None = None, commit_seconds: float | None = None,
                 journal_dir: Path | None = None) -> None:
        self.path = Path(path)
        self._files = (str(self.path), f"{self.path}-wal")  # what status() sizes: /api/health, per request
        self.max_limit = MAX_LIMIT
        self.interval_seconds = interval_seconds
        self._ring = RingStore(history_size, interval_seconds)
        self._clock = clock
        self._damaged: str | None = None  # what a read found wrong with the file while running
        self._layouts = Layouts()
        self._book = LayoutBook()
        conn = open_database(self.path, pragmas, clock)
        journal = open_journal(journal_dir, self.path)
        if commit_seconds is None:
            commit_seconds = default_commit_seconds(journal is not None, history_size * interval_seconds)
        self.commit_seconds = commit_seconds
        self.journal_path = None if journal is None else journal.path
        try:
            self._salvage = last_salvage(conn)
            self._instance = int(conn.execute(
                "INSERT INTO instances (name, started_ms) VALUES (?, ?)",
                (instance_id, to_ms(clock()))).lastrowid or 0)
            self._writer = Writer(conn, instance=self._instance, retention=retention, clock=clock,
                                  commit_seconds=commit_seconds, journal=journal)
        except sqlite3.Error as exc:
            conn.close()
            if journal is not None:
                journal.close(remove=False)
            raise unusable(self.path.parent, exc) from exc
        log_where_samples_wait(self.path, commit_seconds, journal)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._writer.start()

    # --- on the event loop: cheap -------------------------------------------------------

    def append(self, sample: Mapping[str, Any]) -> None:
        """Keep the sample in the ring and queue it for the writer thread; never blocks."""
        row = self._layouts.record(sample)
        self._ring.append_row(row)
        self._writer.put(row)

    def read_cached(self, since: int | None, limit: int) -> HistorySlice | None:
        """The ring's answer when it holds every row asked for, else None (then read() in a thread)."""
        ring = self._ring
        answers = self._ring_answers(ring.first_seq, len(ring), since, limit)
        return ring.read(since, limit) if answers else None

    def _ring_answers(self, first: int | None, held: int, since: int | None, limit: int) -> bool:
        """Whether ``held`` ring rows from seq ``first`` answer a cursor read without the file."""
        oldest = self._writer.first_seq
        if first is None or oldest is None or oldest >= first:
            return True  # nothing of this instance is older than the ring
        return limit <= held if since is None else since >= first - 1

    @property
    def first_seq(self) -> int | None:
        """The oldest seq of this instance held, in the file or the ring."""
        held = [s for s in (self._writer.first_seq, self._ring.first_seq) if s is not None]
        return min(held, default=None)

    @property
    def latest_seq(self) -> int | None:
        """The newest seq: the ring always has it."""
        return self._ring.latest_seq

    def __len__(self) -> int:
        """Samples of this instance held, in the file or the ring (seqs are consecutive)."""
        first, latest = self.first_seq, self.latest_seq
        return 0 if first is None or latest is None else latest - first + 1

    def status(self) -> StoreStatus:
        """The file, its size with the WAL, the oldest point of any tier, and whether writes succeed."""
        size = 0
        for name in self._files:
            try:
                size += os.stat(name).st_size
            except OSError:  # no WAL while nothing is open
                continue
        oldest = [t for t in (self._writer.oldest, self._ring.oldest_timestamp) if t is not None]
        error, status = self._writer.error, self._condition()
        if error is not None:
            error = f"{error}; {self._writer.backlog} samples wait in memory to be written"
        error = self._damaged or error
        return StoreStatus(path=self._files[0], size_bytes=size, oldest_timestamp=min(oldest, default=None),
                           status=status, error=error, salvaged=self._salvage)

    def _condition(self) -> Status:
        """damaged, degraded (writes fail), salvaged (less than SALVAGED_SECONDS ago) or ok."""
        if self._damaged is not None or (self._writer.error is not None and self._writer.damaged):
            return "damaged"
        if self._writer.error is not None:
            return "degraded"
        recent = self._salvage is not None and self._clock() - self._salvage.at < SALVAGED_SECONDS
        return "salvaged" if recent else "ok"

    def _found_damage(self, exc: sqlite3.Error) -> None:
        """A read hit damage: say so once, and serve the ring from now on."""
        if self._damaged is None:
            log.error("history database %s is damaged (%s): serving the last %d samples from memory; restart "
                      "perfmon to salvage the file (every start checks it)", self.path, one_line(str(exc)),
                      len(self._ring))
        self._damaged = (f"the history database is damaged ({one_line(str(exc))}): history is served from "
                         f"memory; restart perfmon to salvage it")

    # --- in worker threads: may read the file ---------------------------------------------

    def read(self, since: int | None, limit: int) -> HistorySlice:
        """Rows with seq > ``since`` (or the last ``limit``): older from the file, newer from the ring."""
        tail = self._ring.snapshot()  # one copy: the event loop may append meanwhile
        first = tail[0][0] if tail else None
        if self._damaged is not None or self._ring_answers(first, len(tail), since, limit):
            return slice_rows(tail, since, limit)
        try:
            return self._read_file(tail, since, limit)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            self._found_damage(exc)
            return slice_rows(tail, since, limit)

    def _read_file(self, tail: list[HistoryRow], since: int | None, limit: int) -> HistorySlice:
        """read() of what is older than the ring: from the file."""
        limit = min(limit, self.max_limit)
        before = to_ms(tail[0][TIME]) if tail else None
        if since is None:
            older = rows_before(self._reader(), self._book, self._instance, before, limit - len(tail))
            return HistorySlice([*older, *tail][-limit:], truncated=False)
        older = rows_after(self._reader(), self._book, self._instance, since, before, limit)
        skip = max(0, since + 1 - tail[0][0]) if tail else 0
        rows = [*older, *tail[skip:skip + limit - len(older)]]
        return HistorySlice(rows, truncated=bool(rows) and rows[0][0] > since + 1)

    def read_range(self, start: float, end: float, points: int,
                   selectors: Sequence[Selector] = ()) -> RangeResult:
        """Equal buckets over [start, end) from the coarsest tier that has enough, with the other series
        ``selectors`` pick (see range)."""
        if self._damaged is None:
            try:
                tail = self._ring.snapshot()
                return read_range(self._reader(), tail, self.interval_seconds, start, end, points,
                                  selectors=selectors, book=self._book)
            except sqlite3.DatabaseError as exc:
                if not is_damage(exc):
                    raise
                self._found_damage(exc)
        return self._ring.read_range(start, end, points, selectors)

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, opened on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = prepare_reader(connect(self.path))
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    # --- lifecycle ----------------------------------------------------------------------

    def flush(self, timeout: float = 30.0, *, upkeep: bool = True) -> bool:
        """Wait until what was appended is written and rolled up (and trimmed); True if all was (tests)."""
        return self._writer.flush(timeout, upkeep=upkeep)

    def write_stats(self) -> WriteStats:
        """Rows and commits written so far and the writer thread's CPU time (benchmarks)."""
        return self._writer.stats

    def close(self) -> None:
        """Close the readers, write what is pending and stop the writer (it closes the file last)."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._writer.close(CLOSE_SECONDS)


def default_commit_seconds(journaled: bool, held_seconds: float) -> float:
    """Seconds between commits when none is asked for: with a journal, long, but never longer
    than the ring holds (what waits for its commit is answered from the ring); without, short."""
    return min(JOURNAL_COMMIT_SECONDS, held_seconds) if journaled else COMMIT_SECONDS


def log_where_samples_wait(path: Path, commit_seconds: float, journal: Journal | None) -> None:
    # at debug: a start that fails (a port in use) says one line, its error
    if journal is not None:
        log.debug("history database %s: samples wait for their commit (every %g s) in the journal %s",
                  path, commit_seconds, journal.path)
    else:
        log.debug("history database %s: a commit every %g s, no journal (a kill -9 loses at most that)",
                  path, commit_seconds)
