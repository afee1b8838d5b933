"""The alerts' state and history on disk: ``alerts.sqlite3`` in the data directory.

Two tables: ``alert_state``, the instances pending or firing (rewritten whole when they change:
a few rows, and rarely), and ``alert_history``, the transitions (kept as long as the minute tier).
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
from collections.abc import Iterable, Mapping
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

    def save(self, state: Iterable[Row] | None, records: Iterable[Row], prune_before: float) -> None:
        """In one transaction: the instances (all of them, when given), new transitions, and the
        history older than ``prune_before`` dropped."""
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
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the file (what was saved stays)."""
        with self._lock:
            self._conn.close()
