"""Time buckets: which tier answers a range query, and min/mean/max per bucket.

A range [start, end) asked for at ``points`` points is read from the coarsest tier whose
resolution still gives that many points (Netdata's rule), then grouped into at most
``points`` equal buckets. Every store fills a :class:`Buckets` with partial aggregates
(min, max, sum, count per column) and takes the series from it; a bucket nothing fell
into is null, never interpolated. The other series (``perfmon.store.series``) asked for are
aggregated alike, by series key (``want``, ``add_series``); one with no value in the range is left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from perfmon.core.metrics import SeriesKey
from perfmon.core.schema import HISTORY_COLUMNS
from perfmon.store.base import RangeResult, Tier
from perfmon.store.series import series_of

CORES = "per_cpu_percent"
VALUE_COLUMNS: tuple[str, ...] = tuple(c for c in HISTORY_COLUMNS if c not in ("seq", "timestamp", CORES))
DIGITS = 3  # means are rounded for the wire; min and max are values that were measured


@dataclass(frozen=True, slots=True)
class TierSpan:
    """One tier a store can read: its name, its resolution, and its oldest point (None: empty)."""

    name: Tier
    resolution_seconds: float
    oldest: float | None


def choose_tier(tiers: Sequence[TierSpan], start: float, end: float, points: int) -> TierSpan:
    """The coarsest tier with at least ``points`` points over the range, or a coarser one that reaches
    further back.

    ``tiers`` go from the finest to the coarsest. A fine tier that was trimmed (retention,
    size cap) after ``start`` gives way to a coarser one holding whole periods from before
    the fine tier's oldest point; a range that merely starts before any data stays put.
    """
    span = end - start
    enough = [i for i, t in enumerate(tiers) if span / t.resolution_seconds >= points]
    index = enough[-1] if enough else 0
    while index + 1 < len(tiers) and reaches_further_back(tiers[index], tiers[index + 1], start):
        index += 1
    return tiers[index]


def reaches_further_back(finer: TierSpan, coarser: TierSpan, start: float) -> bool:
    """Whether ``coarser`` has a whole period from before ``finer``'s oldest point (after ``start``)."""
    if coarser.oldest is None:
        return False
    if finer.oldest is None:
        return True
    return finer.oldest > start and coarser.oldest + coarser.resolution_seconds <= finer.oldest


def bucket_seconds(tier: TierSpan, start: float, end: float, points: int) -> float:
    """The width of a bucket: a whole number of the tier's steps, so at most ``points`` buckets."""
    # A relative tolerance: float rounding of a fractional start and end must not add a step.
    steps = max(1, math.ceil((end - start) / points / tier.resolution_seconds * (1 - 1e-9)))
    return steps * tier.resolution_seconds


@dataclass
class Buckets:
    """Partial aggregates per bucket over [start, start + count * width)."""

    start: float
    width: float
    count: int
    mins: dict[str, list[float | None]] = field(default_factory=dict)
    maxs: dict[str, list[float | None]] = field(default_factory=dict)
    sums: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, list[int]] = field(default_factory=dict)
    cores: list[list[float] | None] = field(default_factory=list)
    core_weights: list[float] = field(default_factory=list)
    extra: dict[SeriesKey, tuple[list[Any], list[Any], list[float], list[int]]] = field(default_factory=dict)

    @classmethod
    def over(cls, start: float, end: float, width: float) -> Buckets:
        """Empty buckets covering [start, end)."""
        count = max(1, math.ceil((end - start) / width * (1 - 1e-9)))
        buckets = cls(start, width, count)
        for column in VALUE_COLUMNS:
            buckets.mins[column] = [None] * count
            buckets.maxs[column] = [None] * count
            buckets.sums[column] = [0.0] * count
            buckets.counts[column] = [0] * count
        buckets.cores = [None] * count
        buckets.core_weights = [0.0] * count
        return buckets

    def want(self, keys: Iterable[SeriesKey]) -> None:
        """Aggregate these other series too (min, max, sum, count per bucket)."""
        for key in keys:
            self.extra.setdefault(key, ([None] * self.count, [None] * self.count, [0.0] * self.count,
                                        [0] * self.count))

    def add_series(self, i: int, key: SeriesKey, low: float, high: float, total: float, n: int) -> None:
        """Fold ``n`` values (their min, max and sum) of another series into bucket ``i``."""
        mins, maxs, sums, counts = self.extra[key]
        if counts[i]:
            mins[i], maxs[i] = min(low, mins[i]), max(high, maxs[i])
        else:
            mins[i], maxs[i] = low, high
        sums[i] += total
        counts[i] += n

    def index(self, timestamp: float) -> int | None:
        """The bucket a time falls into, or None outside the range."""
        i = math.floor((timestamp - self.start) / self.width)
        return i if 0 <= i < self.count else None

    def add(self, i: int, column: str, low: float | None, high: float | None, total: float,
            n: int) -> None:
        """Fold ``n`` values (their min, max and sum) of ``column`` into bucket ``i``."""
        if not n or low is None or high is None:
            return
        mins, maxs = self.mins[column], self.maxs[column]
        current_low, current_high = mins[i], maxs[i]
        mins[i] = low if current_low is None or low < current_low else current_low
        maxs[i] = high if current_high is None or high > current_high else current_high
        self.sums[column][i] += total
        self.counts[column][i] += n

    def add_value(self, i: int, column: str, value: float | None) -> None:
        """Fold one measured value (or nothing, if it is null) into bucket ``i``."""
        if value is not None:
            self.add(i, column, value, value, value, 1)

    def add_cores(self, i: int, values: Sequence[float | None] | None, weight: float = 1.0) -> None:
        """Fold one per-CPU reading (or a mean of ``weight`` readings) into bucket ``i``."""
        if not values or None in values:  # a reading with a CPU missing is left out
            return
        present = cast(Sequence[float], values)
        current = self.cores[i]
        if current is None or len(current) != len(values):
            if current is not None and self.core_weights[i] >= weight:
                return  # the CPU count changed inside a bucket: keep the better-supported one
            self.cores[i] = [float(v) * weight for v in present]
            self.core_weights[i] = weight
            return
        self.cores[i] = [c + float(v) * weight for c, v in zip(current, present, strict=True)]
        self.core_weights[i] += weight

    def result(self, tier: Tier, end: float) -> RangeResult:
        """The series of every bucket: null where nothing fell in."""
        series: dict[str, list[Any]] = {
            "timestamp": [round(self.start + i * self.width, 3) for i in range(self.count)]}
        for column in VALUE_COLUMNS:
            counts, sums = self.counts[column], self.sums[column]
            series[column] = [round(s / n, DIGITS) if n else None for s, n in zip(sums, counts, strict=True)]
            series[f"{column}_min"] = list(self.mins[column])
            series[f"{column}_max"] = list(self.maxs[column])
        series[CORES] = [None if c is None else [round(v / w, 1) for v in c]
                         for c, w in zip(self.cores, self.core_weights, strict=True)]
        extra = {key: ([round(s / n, DIGITS) if n else None for s, n in zip(sums, counts, strict=True)],
                       mins, maxs) for key, (mins, maxs, sums, counts) in self.extra.items() if any(counts)}
        return RangeResult(self.start, end, tier, self.width, series, extra)


def fold_series(buckets: Buckets, rows: Iterable[Sequence[Any]]) -> None:
    """Fold the other series asked for (``Buckets.want``) of history rows (``series.Record``)."""
    if not buckets.extra:
        return
    at_time = HISTORY_COLUMNS.index("timestamp")
    picks: dict[int, list[tuple[int, SeriesKey]]] = {}  # by layout: rows share one tuple while it lasts
    for row in rows:
        layout, values = series_of(row)
        if not layout:
            continue
        i = buckets.index(row[at_time])
        if i is None:
            continue
        picked = picks.get(id(layout))
        if picked is None:
            picked = picks[id(layout)] = [(p, k) for p, k in enumerate(layout) if k in buckets.extra]
        for position, key in picked:
            value = values[position]
            if value is not None:
                buckets.add_series(i, key, value, value, value, 1)


def from_rows(rows: Iterable[Sequence[Any]], start: float, end: float, width: float,
              tier: Tier = "raw", wanted: Iterable[SeriesKey] = ()) -> RangeResult:
    """Buckets of raw history rows (tuples in HISTORY_COLUMNS order), as a memory store has them, and of
    the other series ``wanted``."""
    rows = list(rows)
    buckets = Buckets.over(start, end, width)
    buckets.want(wanted)
    fold_series(buckets, rows)
    positions = {column: HISTORY_COLUMNS.index(column) for column in VALUE_COLUMNS}
    at_time, at_cores = HISTORY_COLUMNS.index("timestamp"), HISTORY_COLUMNS.index(CORES)
    for row in rows:
        i = buckets.index(row[at_time])
        if i is None:
            continue
        for column, position in positions.items():
            buckets.add_value(i, column, row[position])
        buckets.add_cores(i, row[at_cores])
    return buckets.result(tier, end)
