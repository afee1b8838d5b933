"""The alerts' state and history on disk: ``alerts.sqlite3`` in the data directory.

Four tables: ``alert_state``, the instances pending or firing (rewritten whole when they change:
a few rows, and rarely), ``alert_history``, the transitions (kept as long as the minute tier),
``alert_outbox``, the notifications not yet delivered (written in the same transaction as the
state that made them, so a crash neither loses one nor makes one twice, and replaced in one by the
one they are grouped into), and ``alert_silences``, the silences set through the API.
Rows are JSON objects the alert book makes and reads; this module knows nothing of their meaning.
Writes are one transaction each, in WAL with synchronous=NORMAL: a ``kill -9`` loses no commit.

A file that is not a database, or is damaged, is moved aside (``alerts.sqlite3.corrupt-<time>``, kept
for a person to look at) and a new one is begun, with one line in the log: alerts then start
afresh, as they would with no file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from perfmon.store.base import StoreError
from perfmon.store.sqlite.copy import is_damage
from perfmon.store.sqlite.salvage import one_line, set_aside

log = logging.getLogger(__name__)
FILE_NAME = "alerts.sqlite3"
VERSION = 1
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS alert_state (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alert_history (at REAL NOT NULL, body TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS alert_history_at ON alert_history (at)",
    "CREATE TABLE IF NOT EXISTS alert_outbox (id TEXT PRIMARY KEY, due REAL NOT NULL, "
    "attempts INTEGER NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS alert_silences (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
)
Row = Mapping[str, Any]


class AlertStateFile:
    """One alerts file: load what was kept, save what changed (from any one thread at a time)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._lock = threading.Lock()
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc) and "file is not a database" not in str(exc):
                raise StoreError(f"cannot keep the alerts' state in {directory}: "
                                 f"{one_line(str(exc))}") from None
            aside = set_aside(self.path)
            log.error("alerts file %s is damaged (%s): moved it to %s; the alerts start afresh", self.path,
                      one_line(str(exc)), aside)
            self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=5)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > VERSION:
                raise StoreError(f"{self.path} was written by a newer perfmon (alerts version {version}): "
                                 f"upgrade perfmon, or choose another --data-dir")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            if conn.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check found damage")
            for statement in SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    def load(self, since: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The instances kept, and the transitions from ``since`` on (oldest first)."""
        with self._lock:
            state = [json.loads(body) for (body,) in self._conn.execute("SELECT body FROM alert_state")]
            history = [json.loads(body) for (body,) in self._conn.execute(
                "SELECT body FROM alert_history WHERE at >= ? ORDER BY at, rowid", (since,))]
        return state, history

    def save(self, state: Iterable[Row] | None, records: Iterable[Row], prune_before: float,
             outbox: Iterable[Row] = ()) -> None:
        """In one transaction: the instances (all of them, when given), new transitions, the history
        older than ``prune_before`` dropped, and new notifications (due at their ``due``, else at once)."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                if state is not None:
                    conn.execute("DELETE FROM alert_state")
                    conn.executemany("INSERT INTO alert_state (id, body) VALUES (?, ?)",
                                     [(row["id"], json.dumps(row, separators=(",", ":"))) for row in state])
                conn.executemany("INSERT INTO alert_history (at, body) VALUES (?, ?)",
                                 [(row["at"], json.dumps(row, separators=(",", ":"))) for row in records])
                conn.execute("DELETE FROM alert_history WHERE at < ?", (prune_before,))
                conn.executemany("INSERT OR IGNORE INTO alert_outbox (id, due, attempts, body) "
                                 "VALUES (?, ?, 0, ?)", [outbox_row(row) for row in outbox])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def silences(self) -> list[dict[str, Any]]:
        """The silences set through the API."""
        with self._lock:
            return [json.loads(body) for (body,) in self._conn.execute("SELECT body FROM alert_silences")]

    def save_silences(self, rows: Iterable[Row]) -> None:
        """The silences set through the API, all of them (a few rows), in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM alert_silences")
                self._conn.executemany("INSERT INTO alert_silences (id, body) VALUES (?, ?)",
                                       [(row["id"], json.dumps(row, separators=(",", ":"))) for row in rows])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def due(self, now: float, limit: int) -> list[tuple[dict[str, Any], int]]:
        """Undelivered notifications due by ``now``, oldest first, with their attempts so far."""
        with self._lock:
            return [(json.loads(body), attempts) for body, attempts in self._conn.execute(
                "SELECT body, attempts FROM alert_outbox WHERE due <= ? ORDER BY due LIMIT ?", (now, limit))]

    def next_due(self) -> float | None:
        """When the next undelivered notification is due, or None."""
        with self._lock:
            due = self._conn.execute("SELECT min(due) FROM alert_outbox").fetchone()[0]
        return None if due is None else float(due)

    def done(self, notification_id: str) -> None:
        """A notification delivered (or given up): out of the outbox."""
        with self._lock:
            self._conn.execute("DELETE FROM alert_outbox WHERE id = ?", (notification_id,))

    def retry(self, notification_id: str, due: float, attempts: int) -> None:
        """A failed delivery, tried again at ``due``."""
        with self._lock:
            self._conn.execute("UPDATE alert_outbox SET due = ?, attempts = ? WHERE id = ?",
                               (due, attempts, notification_id))

    def waiting(self) -> list[dict[str, Any]]:
        """The undelivered notifications never tried yet, oldest first (as they were made)."""
        with self._lock:
            rows = [json.loads(body) for (body,) in self._conn.execute(
                "SELECT body FROM alert_outbox WHERE attempts = 0 ORDER BY rowid")]
        return sorted(rows, key=lambda row: row["created"])

    def merge(self, ids: Sequence[str], row: Row) -> None:
        """In one transaction: the notifications ``ids`` out, and ``row`` (what they became) in, never
        tried, due at its ``due``. A crash leaves the ones or the other, never both nor neither."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("DELETE FROM alert_outbox WHERE id = ?", [(i,) for i in ids])
                conn.execute("INSERT OR IGNORE INTO alert_outbox (id, due, attempts, body) "
                             "VALUES (?, ?, 0, ?)", outbox_row(row))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the file (what was saved stays)."""
        with self._lock:
            self._conn.close()


def outbox_row(row: Row) -> tuple[str, float, str]:
    """A new notification as the outbox keeps it: its id, when it is first due (its ``due``, else when
    it was made) and the rest of it."""
    body = {k: v for k, v in row.items() if k != "due"}
    return row["id"], float(row.get("due", row["created"])), json.dumps(body, separators=(",", ":"))
