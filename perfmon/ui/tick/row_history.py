"""The rows' history: one ``/api/history?series=`` query over the buckets the fixed charts just read.

When the fixed charts are rebuilt (a new range, a zoom, an API restart) or append whole
buckets, ``perfmon.ui.tick.chart_reads.read_range`` says the range they read; the rows' series
are read over the same buckets, in the tick's read step (``perfmon.ui.tick.reading``), so
their times are the fixed charts' times. The selectors
come from the groups' declarations (``disks[mountpoint=~.*].percent``: every row's series).

An API that keeps no per-row history answers without ``keys`` (it ignores ``series=``), or
fails this one query: then the row charts are drawn from the samples the tab sees, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from perfmon.ui.screen.figures import chart_times
from perfmon.ui.screen.rows import ROW_GROUPS, charted
from perfmon.ui.source.client import ApiUnavailable, PerformanceClient
from perfmon.ui.tick.row_updates import RowHistory

log = logging.getLogger(__name__)


def selectors() -> list[str]:
    """A selector per charted field of every row group: all of its rows."""
    return [f"{group.name}[{group.key[0]}=~.*].{f.series_name}"
            for group in ROW_GROUPS for f in charted(group)]


def read(answer: Mapping[str, Any]) -> RowHistory | None:
    """The rows' columns and their times (the buckets' middles) from an answer; None without ``keys``."""
    if not isinstance(answer.get("keys"), list):
        return None
    series, width = answer["series"], float(answer["resolution_seconds"])
    x = chart_times([ts + width / 2 for ts in series["timestamp"]], width < 1)
    return RowHistory(x, {key: values for key, values in series.items() if "[" in key},
                      list(series["timestamp"]), width)


async def fetch(client: PerformanceClient, buckets: tuple[float, float, int] | None,
                remaining: Callable[[], float]) -> RowHistory | None:
    """The rows' history over the buckets (start, end, points) the fixed charts read, if they read any."""
    if buckets is None:
        return None
    start, end, points = buckets
    try:
        answer = await client.history_series(selectors(), start, end, points, remaining())
    except ApiUnavailable as exc:  # the fixed charts got theirs: the rows follow the samples
        log.debug("no history of the rows: %s", exc)
        return None
    return read(answer)
