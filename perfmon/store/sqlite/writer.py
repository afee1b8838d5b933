"""The writer thread: the only user of the writing connection, so the event loop never waits on disk.

``put`` is all the event loop does (a queue put). The thread commits what waits in one transaction
at most ``commit_seconds`` (``--commit-interval``) after the newest row it last committed arrived:
the file never trails the newest sample by more, and a kill loses at most that much. Fewer, larger
commits write less (BENCHMARKS.md, "Disk writes of the history store"). Between commits it rolls up
finished minutes and hours and, every ``UPKEEP_SECONDS``, takes a small step of retention, the size
cap and vacuum. Failed writes (a full disk) wait in a bounded backlog, retried every ``RETRY_SECONDS``,
logged once and once more when writes resume."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue

from perfmon.core.schema import HistoryRow
from perfmon.store.base import Retention
from perfmon.store.sqlite.codec import INSERT, EncodedRow
from perfmon.store.sqlite.copy import is_damage
from perfmon.store.sqlite.journal import Journal, recover
from perfmon.store.sqlite.keeper import Keeper
from perfmon.store.sqlite.layouts import LayoutIds
from perfmon.store.sqlite.schema import transaction

log = logging.getLogger(__name__)

COMMIT_SECONDS = 5.0  # --commit-interval's default without a journal: a kill loses at most 5 s
JOURNAL_COMMIT_SECONDS = 300.0  # its default with one: the journal keeps what a kill would lose
RETRY_SECONDS = 5.0
BACKLOG_ROWS = 6 * 3600  # rows kept in memory while writes fail: six hours at the default interval
SQLITE_FULL = 13
STOP = object()


@dataclass
class WriteStats:
    """What writing has cost so far: rows taken from the queue and written, commits, the thread's CPU time."""

    accepted: int = 0
    rows: int = 0
    commits: int = 0
    cpu_seconds: float = 0.0


@dataclass
class Flush:
    """A request to write now (and, with ``upkeep``, to finish retention and the size cap), then say so."""

    upkeep: bool
    done: threading.Event = field(default_factory=threading.Event)


def describe(exc: sqlite3.Error) -> str:
    """Why a write failed, in words."""
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return f"the disk is full or the database reached its page limit ({exc})"
    if is_damage(exc):
        return f"the history database is damaged ({exc}): restart perfmon to salvage it"
    return f"writing the history database failed ({exc})"


class Writer:
    """Owns the writing connection and its thread; the store reads its state (plain attributes)."""

    def __init__(self, conn: sqlite3.Connection, *, instance: int, retention: Retention,
                 clock: Callable[[], float], commit_seconds: float = COMMIT_SECONDS,
                 journal: Journal | None = None) -> None:
        self._conn = conn
        self._journal = journal
        self._commit_seconds = commit_seconds
        self._due: float | None = None  # when the pending rows must be committed (monotonic)
        self._arrived: float | None = None  # when the newest row taken arrived
        self._committed_arrived: float | None = None  # when the newest row committed arrived
        self._instance = instance
        self._queue: SimpleQueue[object] = SimpleQueue()
        self._pending: deque[EncodedRow] = deque()  # the layout still as keys: ids are made in _write
        self._layouts = LayoutIds(conn)
        self._newest_ms: int | None = conn.execute("SELECT max(t) FROM raw").fetchone()[0]
        self._keeper = Keeper(conn, retention, clock)
        self._retry_at = 0.0
        self._warned: set[str] = set()
        self._stopped = False  # after close() or a crash of the thread: nothing is queued any more
        self.error: str | None = None
        self.damaged = False  # the last failed write met a damaged file (meaningful while error is set)
        self.first_seq: int | None = None
        self.oldest: float | None = None
        self.stats = WriteStats()
        self.recovered = 0  # rows a run that did not close left in the journal, committed first
        self._refresh()
        if journal is not None:  # what a run that did not close left: committed first
            self._pending.extend(recover(journal, self._newest_ms))
            self.recovered = len(self._pending)
            if self._pending:
                self._newest_ms, self._due = self._pending[-1][0], time.monotonic()
        self._thread = threading.Thread(target=self._run, name="perfmon-store-writer", daemon=True)

    def start(self) -> None:
        """Start writing."""
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Rows waiting to be written."""
        return len(self._pending) + self._queue.qsize()

    def put(self, row: HistoryRow) -> None:
        """Queue a row; cheap enough for the event loop."""
        if not self._stopped:
            self._queue.put(row)

    def flush(self, timeout: float, *, upkeep: bool = True) -> bool:
        """Write what was put so far, finish the due roll-ups (and all upkeep); True if all is written."""
        if self._stopped or not self._thread.is_alive():
            return False
        request = Flush(upkeep)
        self._queue.put(request)
        return request.done.wait(timeout) and not self._pending and self.error is None

    def close(self, timeout: float) -> None:
        """Write what is pending, stop the thread and close the connection."""
        if self._thread.is_alive():
            self._queue.put(STOP)
            self._thread.join(timeout)
        elif not self._thread.ident:
            self._conn.close()

    # --- in the writer thread ---------------------------------------------------------

    def _run(self) -> None:
        started = time.thread_time()
        try:
            stop = False
            while not stop:
                stop, request = self._collect()
                self._cycle(request, closing=stop)
                self.stats.cpu_seconds = time.thread_time() - started
                if request is not None:
                    request.done.set()
        except Exception as exc:
            log.exception("the history writer stopped")
            self.error = f"the history writer stopped ({exc})"
        finally:
            self._stopped = True
            if self._pending:
                log.warning("history database: %d samples could not be written before closing%s",
                            len(self._pending), "" if self._journal is None else
                            f"; the journal {self._journal.path} keeps them for the next start")
            self._conn.close()
            if self._journal is not None:
                self._journal.close(remove=not self._pending)

    def _collect(self) -> tuple[bool, Flush | None]:
        """Gather rows until the commit deadline, a flush request or the stop."""
        busy = (self._keeper.behind or self._keeper.trimming) and self.error is None
        idle = time.monotonic() + (0.0 if busy else self._commit_seconds)
        while True:
            due = self._due if self._due is not None and not busy else idle  # rows wait for theirs
            deadline = max(due, self._retry_at) if self.error is not None else due  # no spinning till a retry
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except Empty:
                return False, None
            if item is STOP:
                return True, None
            if isinstance(item, Flush):
                return False, item
            self._accept(item)  # type: ignore[arg-type]

    def _accept(self, row: HistoryRow) -> None:
        try:
            encoded = self._layouts.encode(row, self._instance)
        except (TypeError, ValueError) as exc:  # a value that is not a number: keep the writer alive
            self._warn("malformed", f"a sample could not be stored ({exc})")
            return
        if self._newest_ms is not None and encoded[0] <= self._newest_ms:
            self._warn("clock", "the wall clock is at or before the newest stored sample: samples are "
                                "not stored until it passes it")
            return
        self._newest_ms = encoded[0]
        if len(self._pending) >= BACKLOG_ROWS:
            self._pending.popleft()
            self._warn("backlog", f"more than {BACKLOG_ROWS} samples wait to be written: dropping the oldest")
        self._pending.append(encoded)
        if self._journal is not None:
            try:
                self._journal.append(encoded)
            except OSError as exc:
                self._journal_failed(exc)
        self.stats.accepted += 1
        self._arrived = time.monotonic()
        if self._due is None:  # the file trails the newest row by at most commit_seconds (while writes work)
            self._due = (self._committed_arrived or self._arrived) + self._commit_seconds

    def _journal_failed(self, exc: OSError) -> None:
        """The journal's file system refused a write: go on without it, committing every few seconds."""
        assert self._journal is not None
        log.warning("history database: the journal %s failed (%s); committing every %g s instead",
                    self._journal.path, exc.strerror or exc, COMMIT_SECONDS)
        try:
            self._journal.close(remove=False)
        except OSError:
            log.debug("closing the journal failed too", exc_info=True)
        self._journal = None
        self._commit_seconds = min(self._commit_seconds, COMMIT_SECONDS)
        soon = time.monotonic() + self._commit_seconds
        self._due = soon if self._due is None else min(self._due, soon)

    def _warn(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("history database: %s (logged once)", message)

    def _cycle(self, request: Flush | None, *, closing: bool) -> None:
        """Write, roll up, and upkeep when due; a flush does it all now, a close skips upkeep."""
        if self.error is not None and not (request or closing) and time.monotonic() < self._retry_at:
            return
        complete = request is not None and request.upkeep
        upkeep = complete or (not closing and time.monotonic() >= self._keeper.upkeep_at)
        try:
            self._write()
            self._keeper.roll_ups(self._newest_ms, complete=request is not None)
            if upkeep:
                self._upkeep(complete=complete)
        except sqlite3.Error as exc:
            self._failed(exc)
            if upkeep:  # retention may make room for the next try
                try:
                    self._upkeep(complete=complete)
                except sqlite3.Error:
                    log.debug("upkeep after a failed write failed too", exc_info=True)
        else:
            if self.error is not None:
                log.info("history database: writes resumed")
            self.error = None

    def _write(self) -> None:
        if not self._pending:
            self._due = None
            return
        rows = list(self._pending)
        layout_id = self._layouts.id
        with transaction(self._conn):
            self._conn.executemany(INSERT, [(*row[:-2], layout_id(row[-2]), row[-1]) for row in rows])
        self._pending.clear()
        if self._journal is not None:
            try:
                self._journal.clear()
            except OSError as exc:
                self._journal_failed(exc)
        self._due, self._committed_arrived = None, self._arrived
        self.stats.rows += len(rows)
        self.stats.commits += 1
        mine = next((row for row in rows if row[1] == self._instance), None)  # not a recovered row
        if self.first_seq is None and mine is not None:
            self.first_seq = mine[2]
        if self.oldest is None:
            self.oldest = rows[0][0] / 1000

    def _upkeep(self, *, complete: bool) -> None:
        self._keeper.upkeep(complete=complete)
        self._refresh()

    def _refresh(self) -> None:
        """The oldest point in any tier and this instance's oldest seq, for status() and first_seq."""
        oldest = [row[0] for row in self._conn.execute(
            "SELECT min(t) / 1000.0 FROM raw UNION ALL SELECT min(t) FROM minute "
            "UNION ALL SELECT min(t) FROM hour") if row[0] is not None]
        self.oldest = min(oldest, default=None)
        first = self._conn.execute("SELECT instance, seq FROM raw ORDER BY t LIMIT 1").fetchone()
        if first is None:
            self.first_seq = None
        elif first[0] == self._instance:
            self.first_seq = first[1]

    def _failed(self, exc: sqlite3.Error) -> None:
        self._layouts.forget()  # ids made in the rolled-back transaction are gone
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.debug("rollback after a failed write failed too", exc_info=True)
        reason, self.damaged = describe(exc), is_damage(exc)
        if self.error is None:
            log.warning("history database: %s; keeping up to %d samples in memory and retrying every %g s",
                        reason, BACKLOG_ROWS, RETRY_SECONDS)
        self.error = reason
        self._retry_at = time.monotonic() + RETRY_SECONDS
