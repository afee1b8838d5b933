"""The outbox's interface, and the one kept in memory (``--data-dir none``).

The one on disk is ``perfmon.store.sqlite.alert_state.AlertStateFile``, whose ``save`` also
takes new notifications, in the same transaction as the state that made them.

A new row may say when it is first ``due`` (its channel's group_wait after it was made, so that
others can join it); without it, it is due at once. That key is the outbox's, not kept in the row.
``merge`` replaces rows by the one they were grouped into, in one step, so that a crash leaves
either the rows (grouped again after it) or the one they became (sent as it is), never both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol


class Outbox(Protocol):
    """Undelivered notifications: due ones out, each done or tried again later; new ones grouped."""

    def due(self, now: float, limit: int) -> list[tuple[dict[str, Any], int]]: ...
    def next_due(self) -> float | None: ...
    def done(self, notification_id: str) -> None: ...
    def retry(self, notification_id: str, due: float, attempts: int) -> None: ...
    def waiting(self) -> list[dict[str, Any]]: ...
    def merge(self, ids: Sequence[str], row: Mapping[str, Any]) -> None: ...


def entry(row: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
    """When a new row is first due, and the row as it is kept (without ``due``)."""
    kept = {k: v for k, v in row.items() if k != "due"}
    return float(row.get("due", row["created"])), kept


class MemoryOutbox:
    """An outbox that lasts as long as the process."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, int, dict[str, Any]]] = {}  # id: (due, attempts, row)
        self._lock = threading.Lock()

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """New notifications, due at their ``due`` (one already there keeps its place)."""
        with self._lock:
            for row in rows:
                due, kept = entry(row)
                self._items.setdefault(row["id"], (due, 0, kept))

    def due(self, now: float, limit: int) -> list[tuple[dict[str, Any], int]]:
        """Due by ``now``, oldest first."""
        with self._lock:
            ready = sorted((v for v in self._items.values() if v[0] <= now), key=lambda v: v[0])[:limit]
        return [(row, attempts) for _, attempts, row in ready]

    def next_due(self) -> float | None:
        """When the next one is due."""
        with self._lock:
            return min((v[0] for v in self._items.values()), default=None)

    def done(self, notification_id: str) -> None:
        """Delivered or given up."""
        with self._lock:
            self._items.pop(notification_id, None)

    def retry(self, notification_id: str, due: float, attempts: int) -> None:
        """Tried again at ``due``."""
        with self._lock:
            if notification_id in self._items:
                self._items[notification_id] = (due, attempts, self._items[notification_id][2])

    def waiting(self) -> list[dict[str, Any]]:
        """The notifications never tried yet, oldest first (as they were made)."""
        with self._lock:
            rows = [row for _, attempts, row in self._items.values() if attempts == 0]
        return sorted(rows, key=lambda row: row["created"])

    def merge(self, ids: Sequence[str], row: Mapping[str, Any]) -> None:
        """The notifications ``ids`` replaced by ``row``, never tried, due at its ``due``, in one step."""
        due, kept = entry(row)
        with self._lock:
            for notification_id in ids:
                self._items.pop(notification_id, None)
            self._items.setdefault(row["id"], (due, 0, kept))
