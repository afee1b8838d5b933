"""One dashboard tick for one browser tab: API data and the tab's cursor in, screen updates out.

The browser keeps a small cursor per tab (a ``dcc.Store``): which API instance and sample
its charts end at, and what its cards, tables and badge already show. A tick fetches
what is new and returns only the updates, keyed ``"component-id.property"``; anything
already on screen is left out, so an idle tick costs a few hundred bytes.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.core import units as humanize
from perfmon.ui import ids, row_history
from perfmon.ui.cards import Thresholds, kpi_updates, raw_json, show_disks, show_host, show_processes
from perfmon.ui.charts import update_charts
from perfmon.ui.client import ApiStarting, ApiUnavailable, PerformanceClient
from perfmon.ui.inputs import CURSOR_DEFAULTS, REASON_MAX_CHARS
from perfmon.ui.ranges import Span
from perfmon.ui.row_updates import rebuilt_this_tick, rows_changed, show_rows
from perfmon.ui.view import Cursor, Updates, View

log = logging.getLogger(__name__)

DISCONNECTED_AFTER_FAILURES = 3


@dataclass(frozen=True)
class Settings:
    """What every tick of one dashboard needs besides the API."""

    poll_interval_seconds: float = 5.0
    warning_percent: float = 80.0
    critical_percent: float = 95.0
    process_limit: int = 10

    @property
    def thresholds(self) -> Thresholds:
        """When cards and bars turn amber and red."""
        return Thresholds(self.warning_percent, self.critical_percent)

    @property
    def budget_seconds(self) -> float:
        """How long a tick's requests may take in all: a hung API costs a tick no more.

        The browser asks for the next tick only when a view has come (``assets/perfmon.js``), so
        ticks never overlap (the dropped results of plotly/dash#941); a budget longer than a short
        poll interval only delays the next tick.
        """
        return min(3.0, max(0.5, 0.6 * self.poll_interval_seconds))


def new_cursor() -> Cursor:
    """The cursor of a tab that shows nothing yet.

    ``view`` is the span its charts show (``Span.key``), ``mode`` how they follow the API
    (see ``perfmon.ui.charts``), ``res`` their points' width in seconds and ``max`` how many
    they hold; ``seq`` is the last sample appended, ``next`` the start of the next bucket.
    """
    return dict(CURSOR_DEFAULTS)


def begin(cursor: Cursor | None, resync: bool) -> tuple[View, Cursor]:
    """The tick's view, numbered, and the cursor it starts from.

    ``resync``: the browser missed a view (``assets/perfmon.js`` noticed a gap in the
    numbers), so nothing the cursor says is on screen can be trusted: start afresh, but
    keep counting failures, and show the badge again.
    """
    fresh = cursor is None or resync
    if resync and cursor is not None:  # "reason" None: the badge is sent again, whatever it says
        kept = {key: cursor.get(key) for key in ("n", "fails", "since")}
        cursor = {**kept, "link": None if cursor.get("link") == "up" else cursor.get("link")}
    cursor = {**new_cursor(), **(cursor or {})}
    cursor["n"] = int(cursor["n"] or 0) + 1
    return View(n=cursor["n"], full=fresh), cursor


async def tick(client: PerformanceClient, cursor: Cursor | None, settings: Settings, *,
         span: Span, sort: str, raw_open: bool, raw_toggled: bool = False, resync: bool = False,
         now: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
         ) -> tuple[View, Cursor]:
    """Fetch what is new for this tab and say what on its screen must change."""
    view, cursor = begin(cursor, resync)
    raw_toggled = raw_toggled or resync
    deadline = monotonic() + settings.budget_seconds

    def remaining() -> float:
        return deadline - monotonic()

    if raw_toggled:
        view.updates[f"{ids.RAW_JSON}.className"] = "raw" if raw_open else "raw hidden"
        if not raw_open:
            view.updates[f"{ids.RAW_JSON}.children"] = ""  # nothing kept while closed
    try:
        sample = await client.performance(remaining())
        if cursor.get("rhist") and rows_changed(cursor, sample):
            cursor["view"] = None  # a row appeared: every chart again, the rows' from their history
        await update_charts(view, cursor, client, sample, span, remaining)
        known = rebuilt_this_tick(view) or cursor.get("rhist")  # else: the API keeps no rows' history
        rows_history = await row_history.fetch(client, view, remaining) if known else None
        link_up(view.updates, cursor, client.base_url, now())
        show_sample(view, cursor, sample, settings, raw_open, raw_toggled, now())
        show_rows(view, cursor, sample, settings.thresholds, rows_history)
        view.next_seconds = client.planner.plan(sample["instance_id"], sample["timestamp"],
                                                sample["interval_seconds"]).delay
    except ApiUnavailable as exc:
        link_failed(view.updates, cursor, str(exc), settings, now(), starting=isinstance(exc, ApiStarting))
        return view, cursor
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # an answer without the fields we read
        log.exception("the API's answer could not be read")
        link_failed(view.updates, cursor, f"the dashboard could not read the API's answer "
                    f"({type(exc).__name__}); see the dashboard's log", settings, now())
        return view, cursor
    with contextlib.suppress(ApiUnavailable):  # the table keeps the last scan; the next tick retries
        table = await client.processes(sort, settings.process_limit, remaining())
        show_processes(view.updates, cursor, table, sort)
    return view, cursor


def show_sample(view: View, cursor: Cursor, sample: Mapping[str, Any], settings: Settings,
                raw_open: bool, raw_toggled: bool, now: float) -> None:
    """The data's age, and the cards, host, disks and raw data when the sample is new to the tab."""
    view.age_seconds = round(max(0.0, now - sample["timestamp"]), 2)
    new_sample = sample["seq"] != cursor["perf"]
    if raw_open and (new_sample or raw_toggled):
        view.updates[f"{ids.RAW_JSON}.children"] = raw_json(sample)
    if new_sample:
        cursor["perf"] = sample["seq"]
        view.updates.update(kpi_updates(sample, settings.thresholds))
        show_host(view.updates, cursor, sample)
        show_disks(view.updates, cursor, sample, settings.thresholds)


# --- connection badge --------------------------------------------------------------------

def link_up(updates: Updates, cursor: Cursor, base_url: str, now: float) -> None:
    """Show Connected, once, when the link comes (back) up."""
    if cursor["link"] == "up":
        return
    cursor.update(link="up", fails=0, since=round(now, 1), reason=None)
    updates[f"{ids.STATUS}.children"] = "Connected"
    updates[f"{ids.STATUS}.className"] = "badge up"
    updates[f"{ids.STATUS_DETAIL}.children"] = f"to {base_url} since {humanize.clock(now)}"
    updates[f"{ids.PAGE}.className"] = "page"


def link_failed(updates: Updates, cursor: Cursor, reason: str, settings: Settings, now: float,
                starting: bool = False) -> None:
    """Count a failed poll; show Reconnecting, then Disconnected, with the reason and since when."""
    reason = reason[:REASON_MAX_CHARS]  # kept in the cursor, which the next tick checks
    cursor["fails"] += 1
    if cursor["link"] in (None, "up"):
        cursor["since"] = round(now, 1)
    link = "down" if cursor["fails"] >= DISCONNECTED_AFTER_FAILURES and not starting else "retry"
    if link == cursor["link"] and reason == cursor["reason"]:
        return
    cursor.update(link=link, reason=reason)
    retry = f"retrying every {settings.poll_interval_seconds:g} s"
    if link == "down":
        updates[f"{ids.STATUS}.children"] = "Disconnected"
        detail = f"since {humanize.clock(cursor['since'])}: {reason}; {retry}"
    else:
        updates[f"{ids.STATUS}.children"] = "Reconnecting"
        detail = f"{reason}; {retry}"
    updates[f"{ids.STATUS}.className"] = f"badge {link}"
    updates[f"{ids.STATUS_DETAIL}.children"] = detail
    updates[f"{ids.PAGE}.className"] = "page stale"
