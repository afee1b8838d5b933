"""How finely the charts show a span: a point per sample, or equal buckets (mean, min and max).

A range switch rebuilds every chart from one range query, so what it costs on the wire is
its points times the bytes of a point. The points are bounded by a byte budget, so a switch
stays well under 150 KB whatever the range, the sampling interval and the number of CPUs:
a span that fits as single samples is shown so (and appended by cursor, sample by sample);
a longer one in buckets as wide as needed (whole samples, minutes or hours, so they line up
with the API's tiers), each a mean line in a shaded min-max band.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfmon.core import bounds
from perfmon.ui.tick.ranges import Span

REBUILD_BUDGET_BYTES = 100_000  # the figures of a switch; cards, tables and headers fit in the rest
X_BYTES = 27  # "2026-11-26 06:53:34.093", quoted, and a comma
VALUE_BYTES = 8  # a rounded value or a null, and a comma: "1234567," or "null,"
CORE_BYTES = 6  # one CPU in the heatmap: "100.0,"
VALUE_COLUMNS = 8  # cpu, load, memory, swap, disk read and write, network sent and received
# A bucket is read once a sample after it exists: the API answers a range up to its newest sample
# (the SQLite store reads what it has not written yet from its ring), so the store holds all of it.
SETTLE_SECONDS = 0.0
CSV_POINTS = bounds.HISTORY_POINTS_MAX  # the most the API gives in one answer
NICE_SECONDS: tuple[float, ...] = (0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800,
                                   3600, 7200, 10800, 14400, 21600, 43200, 86400)
TIER_SECONDS = (3600.0, 600.0, 60.0)  # the API's tiers above single samples: hour, ten minutes, minute
TIER_NAMES = {"minute": "per-minute", "ten_minute": "ten-minute", "hour": "per-hour"}
BAND_RATIO = 1.5  # buckets wider than this many sampling intervals hold several samples: draw the band


@dataclass(frozen=True)
class Plan:
    """The range query that rebuilds the charts: equal buckets from ``start`` to ``end``."""

    start: float
    end: float
    points: int
    raw: bool  # one sample per bucket: the charts can then follow new samples by cursor


def most_points(cores: int, band: bool, budget: int = REBUILD_BUDGET_BYTES) -> int:
    """How many points a rebuild may carry within the budget."""
    per_point = X_BYTES + VALUE_BYTES * VALUE_COLUMNS * (3 if band else 1) + CORE_BYTES * max(1, cores) + 3
    return max(10, budget // per_point)


def bucket_width(seconds: float, interval: float, points: int) -> float:
    """The narrowest round bucket that covers ``seconds`` in ``points``: samples, minutes or hours.

    Whole minutes, ten minutes and hours line up with the API's tiers, so it reads the
    coarsest one that gives the points; a round
    width (10 s, 5 min, 2 h) reads better than 8.4 s, where it is a whole number of samples.
    """
    width = seconds / points
    unit = next((tier for tier in TIER_SECONDS if width >= tier), interval)
    steps = max(1, math.ceil(width / unit - 1e-9))
    for nice in NICE_SECONDS:
        if nice >= steps * unit - 1e-9 and abs(nice / unit - round(nice / unit)) < 1e-9:
            return float(nice)
    return steps * unit


def plan(span: Span, latest: float, interval: float, cores: int, *,
         most: tuple[int, int] | None = None) -> Plan:
    """The rebuild of ``span`` when the newest sample is at ``latest``.

    ``most`` caps (single samples, buckets); by default they follow the byte budget.
    """
    raw_most, bucket_most = most or (most_points(cores, band=False), most_points(cores, band=True))
    if span.seconds / interval + 2 <= raw_most:
        return raw_plan(span, latest, interval)
    return bucket_plan(span, latest, bucket_width(span.seconds, interval, bucket_most))


def raw_plan(span: Span, latest: float, interval: float) -> Plan:
    """Buckets one interval wide with the samples in their middle, so jitter moves none to a neighbour."""
    anchor = latest + interval / 2
    if span.live:
        end, points = anchor, max(2, math.ceil(span.seconds / interval - 1e-9))
    else:
        end = anchor - math.floor((anchor - span.end) / interval) * interval
        points = max(1, math.ceil((end - span.start) / interval - 1e-9))
    return Plan(round(end - points * interval, 3), round(end, 3), points, raw=True)


def bucket_plan(span: Span, latest: float, width: float) -> Plan:
    """Buckets on a grid of ``width`` from the epoch; a live span ends with the last settled bucket."""
    if span.live:
        end = math.floor((latest - SETTLE_SECONDS) / width) * width
        points = math.ceil(span.seconds / width - 1e-9)
        start = end - points * width
    else:
        start = math.floor(span.start / width) * width
        end = math.ceil(span.end / width) * width
        points = max(1, round((end - start) / width))
    return Plan(round(start, 3), round(end, 3), points, raw=False)


def settled_buckets(next_start: float, width: float, latest: float) -> int:
    """How many whole buckets from ``next_start`` the store holds all of by now."""
    return max(0, math.floor((latest - SETTLE_SECONDS - next_start) / width + 1e-9))


def banded(resolution: float, interval: float) -> bool:
    """True when a bucket holds several samples: its mean is drawn in its min-max band."""
    return resolution > BAND_RATIO * interval


def describe(resolution: float, interval: float, tier: str) -> str:
    """What one point of the charts is, in words."""
    if not banded(resolution, interval):
        return f"every sample ({duration(resolution)})"
    source = f", from the {TIER_NAMES[tier]} history" if tier in TIER_NAMES else ""
    return f"means per {duration(resolution)} in their min-max band{source}"


def has_data(series: Mapping[str, Sequence[Any]]) -> bool:
    """Whether any point of a range answer has data (a bucket the API kept samples in)."""
    return any(value is not None for value in series.get("cpu_percent") or ())


def history_note(series: Mapping[str, Sequence[Any]], width: float, interval: float, latest: float) -> str:
    """Since when the charts have data, when that is after their start (a young install's month).

    From the range answer itself: its first point with data. In buckets wider than a minute,
    that point's start is the time to about a bucket: "history since about 14:00".
    """
    times, values = series.get("timestamp") or (), series.get("cpu_percent") or ()
    first = next((ts for ts, value in zip(times, values, strict=False) if value is not None), None)
    if first is None:
        return "no history in this range"
    if first <= times[0]:
        return ""
    if banded(width, interval) and width > 60:
        return f"history since about {moment(first, latest)}"
    return f"history since {moment(first, latest)}"


def moment(timestamp: float, latest: float) -> str:
    """A local time as the charts show it: ``14:02``, or ``Nov 29 14:02`` on another day than ``latest``."""
    here, now = time.localtime(timestamp), time.localtime(latest)
    same_day = (here.tm_year, here.tm_yday) == (now.tm_year, now.tm_yday)
    return time.strftime("%H:%M" if same_day else "%b %d %H:%M", here)


def duration(seconds: float) -> str:
    """A point's width: ``0.2 s``, ``10 s``, ``90 s``, ``4 min``, ``2 h``."""
    if seconds >= 3600 and seconds % 3600 < 1e-6:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 < 1e-6:
        return f"{seconds / 60:.0f} min"
    return f"{round(seconds, 3):g} s"
