"""The history store's contract: append samples, read them back by cursor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow


@dataclass(frozen=True, slots=True)
class HistorySlice:
    """Rows answering one cursor query, oldest first."""

    rows: Sequence[HistoryRow]
    truncated: bool  # the cursor was older than the store: points between were lost

    def columns(self) -> dict[str, list[object]]:
        """The rows as one list per column, ready to append to a chart."""
        if not self.rows:
            return {name: [] for name in HISTORY_COLUMNS}
        columns = zip(*self.rows, strict=True)
        return {name: list(values) for name, values in zip(HISTORY_COLUMNS, columns, strict=True)}


class HistoryStore(Protocol):
    """Where published samples are kept for ``/api/history``; seq numbers in it are consecutive."""

    def append(self, sample: Mapping[str, Any]) -> None:
        """Keep the newest sample (a dict shaped as ``perfmon.core.schema.Sample``)."""
        ...

    def read(self, since: int | None, limit: int) -> HistorySlice:
        """Rows with seq > ``since`` (oldest first, at most ``limit``); without it the last ``limit``."""
        ...

    @property
    def first_seq(self) -> int | None:
        """The oldest seq held."""
        ...

    @property
    def latest_seq(self) -> int | None:
        """The newest seq held."""
        ...

    def __len__(self) -> int:
        """How many samples are held."""
        ...

    def close(self) -> None:
        """Release what the store holds open."""
        ...
