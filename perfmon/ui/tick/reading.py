"""A tick's first step: everything it shows, read through the source, as one plain object.

Every request of a tick is made here, within the tick's budget: the latest sample, the
history answers its charts need (:mod:`perfmon.ui.tick.chart_reads`), the rows' history over
the same buckets (:mod:`perfmon.ui.tick.row_history`), the process table,
and when the tab should tick next. What comes back is drawn afterwards by pure functions
(:mod:`perfmon.ui.tick.step`, :mod:`perfmon.ui.tick.charts`, :mod:`perfmon.ui.screen`), so no
figure or card is ever built while a request is pending.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.core.shapes import Sample
from perfmon.ui.screen.levels import watched_groups
from perfmon.ui.source.alerts import AlertsRead
from perfmon.ui.source.client import ApiStarting, ApiUnavailable, PerformanceClient
from perfmon.ui.tick import row_history
from perfmon.ui.tick.chart_reads import read_charts, read_range
from perfmon.ui.tick.charts import ChartRead, Rebuild, arrived
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.row_updates import RowHistory, rows_changed


@dataclass(frozen=True)
class Reading:
    """What one tick read: the sample and what goes with it, or the reason there is none.

    ``cursor`` is the tab's cursor once the sample was read (a new API instance resets what
    it says is on screen); ``processes`` is None when the table could not be read this time
    (the table keeps the last scan; the next tick retries); ``rows`` the rows' history over the
    buckets the charts read, None when there is none to draw (or the API keeps none).
    """

    cursor: Cursor
    api_url: str
    sample: Sample | None = None
    charts: ChartRead = None
    processes: Mapping[str, Any] | None = None
    next_seconds: float | None = None
    failure: str = ""
    starting: bool = False
    rows: RowHistory | None = None
    alerts: AlertsRead | None = None
    alerts_failure: str = ""
    rules: tuple[Mapping[str, Any], ...] | None = None  # the API instance's alert rules, once read


async def read(client: PerformanceClient, cursor: Cursor, span: Span, sort: str, process_limit: int,
               remaining: Callable[[], float]) -> Reading:
    """Read what the tab needs, in order, each within what is left of the tick's budget.

    An answer without the fields read here raises (KeyError, TypeError, ...), as the drawing would.
    """
    try:
        sample = await client.performance(remaining())
        cursor = arrived(cursor, sample, span)
        watched = watched_groups(await read_rules(client, sample["instance_id"], remaining))
        if cursor.rhist and rows_changed(cursor, sample, watched):
            cursor = cursor.but(view=None)  # a row appeared: every chart again, the rows' from their history
        charts = await read_charts(client, cursor, sample, span, remaining)
        known = isinstance(charts, Rebuild) or cursor.rhist  # else: the API keeps no rows' history
        rows = await row_history.fetch(client, read_range(charts), remaining) if known else None
        next_seconds = client.planner.plan(sample["instance_id"], sample["timestamp"],
                                           sample["interval_seconds"]).delay
    except ApiUnavailable as exc:
        return Reading(cursor, client.base_url, failure=str(exc), starting=isinstance(exc, ApiStarting))
    processes = None
    with contextlib.suppress(ApiUnavailable):
        processes = await client.processes(sort, process_limit, remaining())
    alerts, failure = await read_alerts(client, sample, span, remaining)
    return Reading(cursor, client.base_url, sample, charts, processes, next_seconds, rows=rows, alerts=alerts,
                   alerts_failure=failure, rules=client.alerting.cached(sample["instance_id"]))


async def read_rules(client: PerformanceClient, instance: str,
                     remaining: Callable[[], float]) -> tuple[Mapping[str, Any], ...] | None:
    """The API instance's alert rules (read once per instance): which row charts have a firing band
    depends on them. None when they cannot be read now; the next tick asks again."""
    try:
        return await client.alerting.rules(instance, remaining())
    except (ApiUnavailable, KeyError, TypeError):
        return None


async def read_alerts(client: PerformanceClient, sample: Sample, span: Span,
                      remaining: Callable[[], float]) -> tuple[AlertsRead | None, str]:
    """The alerts and what they did over the charts' range (at least a day); None and why when the
    API cannot say (an older perfmon has no alerts): the rest of the tick goes on."""
    now = float(sample["timestamp"])
    earliest = now - span.seconds if span.live else span.start
    try:
        return await client.alerting.read(sample["instance_id"], earliest, now, remaining), ""
    except ApiUnavailable as exc:
        return None, str(exc)
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"the API's alerts could not be read ({type(exc).__name__})"
