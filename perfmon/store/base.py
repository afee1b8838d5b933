"""The history store's contract: append samples; read them back by cursor or by time range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from perfmon.core.metrics import Selector, SeriesKey
from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow

Tier = Literal["raw", "minute", "ten_minute", "hour"]
Status = Literal["ok", "memory", "degraded", "salvaged", "damaged"]
SALVAGED_SECONDS = 86400.0  # how long after a salvage the store's status says "salvaged" (then "ok" again)


class StoreError(Exception):
    """The store cannot be used (a directory it may not write, a file from a newer perfmon): one line."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each tier keeps its points, in seconds, and the cap on the database file's size."""

    raw_seconds: float = 14 * 86400
    minute_seconds: float = 90 * 86400
    hour_seconds: float = 730 * 86400
    max_bytes: int = 2**30


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


@dataclass(frozen=True, slots=True)
class RangeResult:
    """Equal buckets over a time range, from one tier (see ``perfmon.store.buckets``).

    ``series`` has ``timestamp`` (each bucket's start), and for every value column of
    the history its mean under its own name plus ``<name>_min`` and ``<name>_max``, and
    ``per_cpu_percent`` (the mean per CPU). A bucket without data is null in every series.
    ``extra`` has the other series asked for (``perfmon.store.series``) that have a value in the
    range: per bucket their means, mins and maxs.
    """

    start: float
    end: float
    tier: Tier
    resolution_seconds: float
    series: dict[str, list[Any]]
    extra: Mapping[SeriesKey, tuple[list[Any], list[Any], list[Any]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SalvageReport:
    """What salvaging a damaged database file kept and lost, and when (kept in the new file)."""

    at: float  # Unix time of the salvage
    damaged_file: str  # where the damaged file was moved
    problem: str  # what SQLite found wrong
    kept_rows: int  # rows copied into the new file, all tables
    lost_rows: int  # at least this many rows of the damaged file could not be read
    lost_rows_exact: bool  # lost_rows is exact (the damaged file could still count its rows)
    lost_spans: tuple[tuple[float | None, float | None], ...]  # Unix s: last time read before, first after

    def as_json(self) -> dict[str, object]:
        """The report as ``/api/health`` gives it."""
        return {"at": self.at, "damaged_file": self.damaged_file, "problem": self.problem,
                "kept_rows": self.kept_rows, "lost_rows": self.lost_rows,
                "lost_rows_exact": self.lost_rows_exact,
                "lost_spans": [list(span) for span in self.lost_spans]}


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """What ``/api/health`` says of the store."""

    path: str | None  # None: in memory only
    size_bytes: int | None
    oldest_timestamp: float | None
    # "memory" (no database), "ok", "degraded" (writes failing; ``error`` says why), "salvaged" (the file
    # was damaged and salvaged at start, less than SALVAGED_SECONDS ago) or "damaged" (damage found while
    # running: served from memory until a restart salvages the file)
    status: Status
    error: str | None = None
    salvaged: SalvageReport | None = None  # the file's last salvage, if it ever had one


class HistoryStore(Protocol):
    """Where published samples are kept for ``/api/history``; seq numbers in it are consecutive."""

    max_limit: int  # the most rows one cursor read may ask for

    def append(self, sample: Mapping[str, Any]) -> None:
        """Keep the newest sample (a dict shaped as ``perfmon.core.schema.Sample``); never blocks."""
        ...

    def read(self, since: int | None, limit: int) -> HistorySlice:
        """Rows with seq > ``since`` (oldest first, at most ``limit``); without it the last ``limit``.

        It may read a database: call it in a thread, unless read_cached() answered.
        """
        ...

    def read_cached(self, since: int | None, limit: int) -> HistorySlice | None:
        """read() if memory can answer it at once, else None: then call read() in a thread."""
        ...

    def read_range(self, start: float, end: float, points: int,
                   selectors: Sequence[Selector] = ()) -> RangeResult:
        """At most ``points`` equal buckets over [start, end) from the coarsest tier that has enough, with
        the other series (``perfmon.store.series``) that ``selectors`` pick.

        It may read a database: call it in a thread.
        """
        ...

    @property
    def first_seq(self) -> int | None:
        """The oldest seq held (of this server instance)."""
        ...

    @property
    def latest_seq(self) -> int | None:
        """The newest seq held."""
        ...

    def __len__(self) -> int:
        """How many samples of this server instance are held."""
        ...

    def status(self) -> StoreStatus:
        """Where the store is, how big, since when, and whether it is healthy."""
        ...

    def close(self) -> None:
        """Write what is pending and release what the store holds open."""
        ...
