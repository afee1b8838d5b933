"""One dashboard tick for one browser tab: the tab's cursor in, a read through the source, screen updates out.

The browser keeps a small cursor per tab (:class:`perfmon.ui.tick.cursor.Cursor`, a
``dcc.Store``): which API instance and sample its charts end at, and what its cards, tables
and badge already show. A tick first reads everything it needs (:func:`perfmon.ui.tick.reading.read`:
every request, within its budget), then draws it with pure functions and returns only the
updates, keyed ``"component-id.property"``; anything already on screen is left out, so an idle
tick costs a few hundred bytes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from perfmon.core import units as humanize
from perfmon.core.shapes import Sample
from perfmon.ui.screen import ids
from perfmon.ui.screen.cards import Thresholds, kpi_updates, raw_json, show_disks, show_host, show_processes
from perfmon.ui.screen.levels import levels_of
from perfmon.ui.source.client import PerformanceClient
from perfmon.ui.tick.alert_view import chart_marks, row_marks, show_alerts
from perfmon.ui.tick.charts import show_charts
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.inputs import REASON_MAX_CHARS
from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.reading import Reading, read
from perfmon.ui.tick.row_updates import show_rows
from perfmon.ui.tick.view import Updates, View

log = logging.getLogger(__name__)

DISCONNECTED_AFTER_FAILURES = 3


def begin(cursor: Cursor | None, resync: bool) -> tuple[View, Cursor]:
    """The tick's view, numbered, and the cursor it starts from.

    ``resync``: the browser missed a view (``assets/perfmon.js`` noticed a gap in the
    numbers), so nothing the cursor says is on screen can be trusted: start afresh, but
    keep counting failures, and show the badge again ("reason" None: the badge is sent again).
    """
    fresh = cursor is None or resync
    if cursor is None:
        cursor = Cursor()
    elif resync:
        cursor = Cursor(n=cursor.n, fails=cursor.fails, since=cursor.since,
                        link=None if cursor.link == "up" else cursor.link)
    cursor = cursor.but(n=cursor.n + 1)
    return View(n=cursor.n, full=fresh), cursor


async def tick(client: PerformanceClient, cursor: Cursor | None, config: TickConfig, *,
         span: Span, sort: str, raw_open: bool, resync: bool = False,
         now: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
         ) -> tuple[View, Cursor]:
    """Read what is new for this tab, then say what on its screen must change."""
    view, cursor = begin(cursor, resync)
    raw_toggled = resync or bool(cursor.raw) != raw_open  # so a view the page dropped is sent again
    cursor = cursor.but(raw=raw_open)
    deadline = monotonic() + config.budget_seconds
    show_raw_toggle(view.updates, raw_open, raw_toggled)
    try:
        reading = await read(client, cursor, span, sort, config.process_limit, lambda: deadline - monotonic())
        return view, show(view, reading, config, span=span, sort=sort, raw_open=raw_open,
                          raw_toggled=raw_toggled, now=now())
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # an answer without the fields we read
        log.exception("the API's answer could not be read")
        return view, link_failed(view.updates, cursor, f"the dashboard could not read the API's answer "
                                 f"({type(exc).__name__}); see the dashboard's log", config, now())


def show(view: View, reading: Reading, config: TickConfig, *, span: Span, sort: str, raw_open: bool,
         raw_toggled: bool, now: float) -> Cursor:
    """Draw what the tick read: charts, badge, cards and tables; the tab's next cursor."""
    cursor, sample = reading.cursor, reading.sample
    if sample is None:
        return link_failed(view.updates, cursor, reading.failure, config, now, starting=reading.starting)
    levels = levels_of(config.thresholds, reading.rules)
    marked = chart_marks(levels, sample, reading.alerts)
    cursor = show_charts(view, cursor, sample, span, reading.charts, marked)
    cursor = link_up(view.updates, cursor, reading.api_url, now)
    cursor = show_sample(view, cursor, sample, levels, raw_open, raw_toggled, now)
    view.next_seconds = reading.next_seconds
    if reading.processes is not None:
        cursor = cursor.but(procs=show_processes(view.updates, cursor.procs, reading.processes, sort))
    cursor = show_alerts(view, cursor, reading, config, now)
    return show_rows(view, cursor, sample, levels, reading.rows,
                     row_marks(levels, sample, reading.rules, reading.alerts))


def show_raw_toggle(updates: Updates, raw_open: bool, raw_toggled: bool) -> None:
    """Open or close the raw-data panel when its toggle changed; nothing is kept while closed."""
    if raw_toggled:
        updates[f"{ids.RAW_JSON}.className"] = "raw" if raw_open else "raw hidden"
        if not raw_open:
            updates[f"{ids.RAW_JSON}.children"] = ""


def show_sample(view: View, cursor: Cursor, sample: Sample, levels: Thresholds,
                raw_open: bool, raw_toggled: bool, now: float) -> Cursor:
    """The data's age, and the cards, host, disks and raw data when the sample is new to the tab."""
    view.age_seconds = round(max(0.0, now - sample["timestamp"]), 2)
    new_sample = sample["seq"] != cursor.perf
    if raw_open and (new_sample or raw_toggled):
        view.updates[f"{ids.RAW_JSON}.children"] = raw_json(sample)
    if not new_sample:
        return cursor
    view.updates.update(kpi_updates(sample, levels))
    host = show_host(view.updates, cursor.host, sample)
    disks = show_disks(view.updates, cursor.disks, sample, levels)
    return cursor.but(perf=sample["seq"], host=host, disks=disks)


# --- connection badge --------------------------------------------------------------------

def link_up(updates: Updates, cursor: Cursor, base_url: str, now: float) -> Cursor:
    """Show Connected, once, when the link comes (back) up."""
    if cursor.link == "up":
        return cursor
    updates[f"{ids.STATUS}.children"] = "Connected"
    updates[f"{ids.STATUS}.className"] = "badge up"
    updates[f"{ids.STATUS_DETAIL}.children"] = f"to {base_url} since {humanize.clock(now)}"
    updates[f"{ids.PAGE}.className"] = "page"
    return cursor.but(link="up", fails=0, since=round(now, 1), reason=None)


def link_failed(updates: Updates, cursor: Cursor, reason: str, config: TickConfig, now: float,
                starting: bool = False) -> Cursor:
    """Count a failed poll; show Reconnecting, then Disconnected, with the reason and since when."""
    reason = reason[:REASON_MAX_CHARS]  # kept in the cursor, which the next tick checks
    since = round(now, 1) if cursor.link in (None, "up") else cursor.since
    cursor = cursor.but(fails=cursor.fails + 1, since=since)
    link = "down" if cursor.fails >= DISCONNECTED_AFTER_FAILURES and not starting else "retry"
    if link == cursor.link and reason == cursor.reason:
        return cursor
    cursor = cursor.but(link=link, reason=reason)
    retry = f"retrying every {config.poll_interval_seconds:g} s"
    if link == "down":
        updates[f"{ids.STATUS}.children"] = "Disconnected"
        detail = f"since {humanize.clock(cursor.since)}: {reason}; {retry}"
    else:
        updates[f"{ids.STATUS}.children"] = "Reconnecting"
        detail = f"{reason}; {retry}"
    updates[f"{ids.STATUS}.className"] = f"badge {link}"
    updates[f"{ids.STATUS_DETAIL}.children"] = detail
    updates[f"{ids.PAGE}.className"] = "page stale"
    return cursor
