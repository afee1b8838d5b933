"""The outbox's interface, and the one kept in memory (``--data-dir none``).

The one on disk is ``perfmon.store.sqlite.alert_state.AlertStateFile``, whose ``save`` also
takes new notifications, in the same transaction as the state that made them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Outbox(Protocol):
    """Undelivered notifications: due ones out, each done or tried again later."""

    def due(self, now: float, limit: int) -> list[tuple[dict[str, Any], int]]: ...
    def next_due(self) -> float | None: ...
    def done(self, notification_id: str) -> None: ...
    def retry(self, notification_id: str, due: float, attempts: int) -> None: ...


class MemoryOutbox:
    """An outbox that lasts as long as the process."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, int, dict[str, Any]]] = {}  # id: (due, attempts, row)
        self._lock = threading.Lock()

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """New notifications, due at once (one already there keeps its place)."""
        with self._lock:
            for row in rows:
                self._items.setdefault(row["id"], (row["created"], 0, dict(row)))

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
