"""The in-memory history: a bounded ring buffer of compact sample rows, read by cursor.

Each row is a ``perfmon.store.series.Record``: today's columns, and the sample's other series
(per mount, interface, disk ...) as a layout shared by the rows while it stays the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow
from perfmon.store.base import HistorySlice, RangeResult, StoreStatus
from perfmon.store.buckets import TierSpan, bucket_seconds, from_rows
from perfmon.store.series import Layouts, layouts_keys, matching

TIMESTAMP = HISTORY_COLUMNS.index("timestamp")


class RingStore:
    """The last ``size`` samples as rows; seq numbers in it are consecutive, so a cursor is an offset.

    Alone (``--data-dir none``) it is the whole history, gone at a restart; under the
    SQLite store it serves the live tail.
    """

    def __init__(self, size: int, interval_seconds: float = 1.0) -> None:
        self._rows: deque[HistoryRow] = deque(maxlen=size)
        self.max_limit = size
        self.interval_seconds = interval_seconds
        self._layouts = Layouts()

    def __len__(self) -> int:
        return len(self._rows)

    def append(self, sample: Mapping[str, Any]) -> None:
        """Add the newest sample, dropping the oldest when full."""
        self._rows.append(self._layouts.record(sample))

    def append_row(self, row: HistoryRow) -> None:
        """Add the newest sample as its history row, for a store that made the row already."""
        self._rows.append(row)

    def close(self) -> None:
        """Nothing to release: the rows live as long as the store."""

    @property
    def oldest_timestamp(self) -> float | None:
        """When the oldest row held was sampled."""
        return self._rows[0][TIMESTAMP] if self._rows else None

    def status(self) -> StoreStatus:
        """In memory: no file, no size on disk."""
        oldest = self.oldest_timestamp
        return StoreStatus(path=None, size_bytes=None, oldest_timestamp=oldest, status="memory")

    def read_cached(self, since: int | None, limit: int) -> HistorySlice:
        """The same as read(): everything here is in memory."""
        return self.read(since, limit)

    def snapshot(self) -> list[HistoryRow]:
        """Every row held, oldest first: one C-level copy, so appends on the event loop cannot interfere."""
        return list(self._rows)

    def read_range(self, start: float, end: float, points: int,
                   selectors: Sequence[Selector] = ()) -> RangeResult:
        """Buckets of the rows in [start, end), with the other series ``selectors`` pick; thread-safe."""
        rows = self.snapshot()
        tier = TierSpan("raw", self.interval_seconds, rows[0][TIMESTAMP] if rows else None)
        inside = [row for row in rows if start <= row[TIMESTAMP] < end] if selectors else []
        wanted = matching(selectors, layouts_keys(inside))
        return from_rows(rows, start, end, bucket_seconds(tier, start, end, points), wanted=wanted)

    @property
    def first_seq(self) -> int | None:
        """The oldest seq still held."""
        return self._rows[0][0] if self._rows else None

    @property
    def latest_seq(self) -> int | None:
        """The newest seq held."""
        return self._rows[-1][0] if self._rows else None

    def read(self, since: int | None, limit: int) -> HistorySlice:
        """Rows with seq > ``since`` (oldest first, at most ``limit``); without it the last ``limit``."""
        return slice_rows(self._rows, since, limit)


def slice_rows(rows: Sequence[HistoryRow], since: int | None, limit: int) -> HistorySlice:
    """The cursor read of rows with consecutive seqs (a ring, or a snapshot of one), as RingStore.read."""
    if not rows:
        return HistorySlice([], truncated=False)
    first = rows[0][0]
    if since is None:
        start = max(0, len(rows) - limit)
        return HistorySlice(list(islice(rows, start, None)), truncated=False)
    if since >= rows[-1][0]:
        return HistorySlice([], truncated=False)
    truncated = since < first - 1
    start = 0 if truncated else since - first + 1
    if start > len(rows) // 2:  # walk from the near end: polls ask for the newest rows
        tail = len(rows) - start
        picked = [rows[-i] for i in range(tail, max(0, tail - limit), -1)]
    else:
        picked = list(islice(rows, start, start + limit))
    return HistorySlice(picked, truncated)
