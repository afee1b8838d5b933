"""One dashboard tick for one browser tab: API data and the tab's cursor in, screen updates out.

The browser keeps a small cursor per tab (a ``dcc.Store``): which API instance and sample
its charts end at, and what its cards, tables and badge already show. A tick fetches
what is new and returns only the updates, keyed ``"component-id.property"``; anything
already on screen is left out, so an idle tick costs a few hundred bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon import figures, humanize
from perfmon.client import ApiStarting, ApiUnavailable, PerformanceClient

log = logging.getLogger(__name__)

Updates = dict[str, Any]
Cursor = dict[str, Any]

DISCONNECTED_AFTER_FAILURES = 3
KPI_NAMES = ("cpu", "memory", "swap", "disk", "load", "network", "diskio")


@dataclass(frozen=True)
class Settings:
    """What every tick of one dashboard needs besides the API."""

    poll_interval_seconds: float = 5.0
    warning_percent: float = 80.0
    critical_percent: float = 95.0
    process_limit: int = 10

    @property
    def budget_seconds(self) -> float:
        """All of a tick's requests must finish well before the next tick (plotly/dash#941)."""
        return min(3.0, 0.6 * self.poll_interval_seconds)


@dataclass
class View:
    """The result of a tick: updates, the x values of appended points, and the data's age."""

    updates: Updates
    x: list[str]
    age_seconds: float | None


def new_cursor(window_seconds: int = figures.DEFAULT_WINDOW_SECONDS) -> Cursor:
    """The cursor of a tab that shows nothing yet."""
    return {"instance": None, "seq": None, "perf": None, "procs": None, "disks": None,
            "host": None, "link": None, "fails": 0, "since": None, "reason": None,
            "window": window_seconds}


def tick(client: PerformanceClient, cursor: Cursor | None, settings: Settings, *,
         window_seconds: int, sort: str, raw_open: bool, raw_toggled: bool = False,
         now: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
         ) -> tuple[View, Cursor]:
    """Fetch what is new for this tab and say what on its screen must change."""
    cursor = {**new_cursor(window_seconds), **(cursor or {})}
    deadline = monotonic() + settings.budget_seconds

    def remaining() -> float:
        return deadline - monotonic()

    view = View({}, [], None)
    if raw_toggled:
        view.updates["raw-json.className"] = "raw" if raw_open else "raw hidden"
        if not raw_open:
            view.updates["raw-json.children"] = ""  # nothing kept while closed
    try:
        sample = client.performance(remaining())
        update_charts(view, cursor, client, sample, window_seconds, remaining)
        link_up(view.updates, cursor, client.base_url, now())
        show_sample(view, cursor, sample, settings, raw_open, raw_toggled, now())
    except ApiUnavailable as exc:
        link_failed(view.updates, cursor, str(exc), settings, now(), starting=isinstance(exc, ApiStarting))
        return view, cursor
    except (KeyError, IndexError, TypeError, ValueError) as exc:  # an answer without the fields we read
        log.exception("the API's answer could not be read")
        link_failed(view.updates, cursor, f"the dashboard could not read the API's answer "
                    f"({type(exc).__name__}); see the dashboard's log", settings, now())
        return view, cursor
    with contextlib.suppress(ApiUnavailable):  # the table keeps the last scan; the next tick retries
        show_processes(view.updates, cursor, client.processes(sort, settings.process_limit, remaining()),
                       sort)
    return view, cursor


def show_sample(view: View, cursor: Cursor, sample: Mapping[str, Any], settings: Settings,
                raw_open: bool, raw_toggled: bool, now: float) -> None:
    """The data's age, and the cards, host, disks and raw data when the sample is new to the tab."""
    view.age_seconds = round(max(0.0, now - sample["timestamp"]), 2)
    new_sample = sample["seq"] != cursor["perf"]
    if raw_open and (new_sample or raw_toggled):
        view.updates["raw-json.children"] = raw_json(sample)
    if new_sample:
        cursor["perf"] = sample["seq"]
        view.updates.update(kpi_updates(sample, settings))
        show_host(view.updates, cursor, sample)
        show_disks(view.updates, cursor, sample, settings)


# --- charts -----------------------------------------------------------------------------

def update_charts(view: View, cursor: Cursor, client: PerformanceClient, sample: Mapping[str, Any],
                  window_seconds: int, remaining: Callable[[], float]) -> None:
    """Append the new points to every chart, or rebuild them when appending cannot be right."""
    interval = sample["interval_seconds"]
    points = figures.window_points(window_seconds, interval)
    seq = cursor["seq"]
    rebuild = (cursor["instance"] != sample["instance_id"] or cursor["window"] != window_seconds
               or seq is None or seq > sample["seq"] or sample["seq"] - seq > points)
    history = client.history(None if rebuild else seq, points, remaining())
    if history["instance_id"] != sample["instance_id"]:
        raise ApiUnavailable("the API restarted during this poll")
    series = history["series"]
    if rebuild:
        for graph_id, figure in figures.figures(series, interval).items():
            view.updates[f"graph-{graph_id}.figure"] = figure
        cursor.update(instance=sample["instance_id"], window=window_seconds, perf=None, procs=None,
                      disks=None, host=None)
    elif series["seq"]:
        gap = history["truncated"] or series["seq"][0] != seq + 1
        x = figures.chart_times(series, interval)
        if gap:
            x.insert(0, humanize.chart_time(figures.gap_time(series["timestamp"][0], interval), interval < 1))
        view.x = x
        for graph_id in figures.GRAPH_IDS:
            payload = figures.extend_payload(graph_id, series, points, gap)
            view.updates[f"graph-{graph_id}.extendData"] = payload
    if series["seq"]:
        cursor["seq"] = series["seq"][-1]


# --- connection badge --------------------------------------------------------------------

def link_up(updates: Updates, cursor: Cursor, base_url: str, now: float) -> None:
    """Show Connected, once, when the link comes (back) up."""
    if cursor["link"] == "up":
        return
    cursor.update(link="up", fails=0, since=round(now, 1), reason=None)
    updates["status.children"] = "Connected"
    updates["status.className"] = "badge up"
    updates["status-detail.children"] = f"to {base_url} since {humanize.clock(now)}"
    updates["page.className"] = "page"


def link_failed(updates: Updates, cursor: Cursor, reason: str, settings: Settings, now: float,
                starting: bool = False) -> None:
    """Count a failed poll; show Reconnecting, then Disconnected, with the reason and since when."""
    cursor["fails"] += 1
    if cursor["link"] in (None, "up"):
        cursor["since"] = round(now, 1)
    link = "down" if cursor["fails"] >= DISCONNECTED_AFTER_FAILURES and not starting else "retry"
    if link == cursor["link"] and reason == cursor["reason"]:
        return
    cursor.update(link=link, reason=reason)
    retry = f"retrying every {settings.poll_interval_seconds:g} s"
    if link == "down":
        updates["status.children"] = "Disconnected"
        detail = f"since {humanize.clock(cursor['since'])}: {reason}; {retry}"
    else:
        updates["status.children"] = "Reconnecting"
        detail = f"{reason}; {retry}"
    updates["status.className"] = f"badge {link}"
    updates["status-detail.children"] = detail
    updates["page.className"] = "page stale"


# --- cards -------------------------------------------------------------------------------

def card(name: str, value: str, sub: str, level: str) -> Updates:
    """The three updates of one KPI card."""
    return {f"kpi-{name}-value.children": value, f"kpi-{name}-sub.children": sub,
            f"kpi-{name}.className": f"card {level}"}


def error_for(sample: Mapping[str, Any], collector: str) -> str | None:
    """The reason a collector gave for its null fields, if it gave one."""
    return next((e["message"] for e in sample.get("errors", ()) if e["collector"] == collector), None)


def root_disk(sample: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The root filesystem, or the first one when there is no ``/`` (Windows drives)."""
    disks = sample.get("disks") or []
    return next((d for d in disks if d["mountpoint"] == "/"), disks[0] if disks else None)


def kpi_updates(sample: Mapping[str, Any], settings: Settings) -> Updates:
    """Value, detail and threshold colour of every card."""
    warn, crit = settings.warning_percent, settings.critical_percent
    cpu, memory, swap = sample["cpu"], sample["memory"], sample["swap"]
    cores = cpu["count_logical"]
    freq = f" at {cpu['frequency_mhz'] / 1000:.2f} GHz" if cpu["frequency_mhz"] else ""
    updates = card("cpu", humanize.percent(cpu["percent"]),
                   f"{cores} logical CPUs{freq}" if cores else error_for(sample, "cpu") or "",
                   humanize.level(cpu["percent"], warn, crit))
    updates |= card("memory", humanize.percent(memory["percent"]),
                    f"{humanize.size(memory['used_bytes'])} of {humanize.size(memory['total_bytes'])} used",
                    humanize.level(memory["percent"], warn, crit))
    swap_sub = (f"{humanize.size(swap['used_bytes'])} of {humanize.size(swap['total_bytes'])} used"
                if swap["percent"] is not None else error_for(sample, "swap") or "not readable")
    updates |= card("swap", humanize.percent(swap["percent"]), swap_sub,
                    humanize.level(swap["percent"], warn, crit))
    disk = root_disk(sample)
    updates |= card("disk", humanize.percent(disk["percent"]) if disk else humanize.NA,
                    f"{disk['mountpoint']}: {humanize.size(disk['used_bytes'])} of "
                    f"{humanize.size(disk['total_bytes'])}" if disk else error_for(sample, "disks") or "",
                    humanize.level(disk["percent"], warn, crit) if disk else "na")
    load = cpu["load_average"]
    per_core = load[0] / cores * 100 if load and cores else None
    updates |= card("load", f"{load[0]:.2f}" if load else humanize.NA,
                    f"5 min {load[1]:.2f}, 15 min {load[2]:.2f}; {per_core:.0f} % of {cores} CPUs"
                    if load and per_core is not None else error_for(sample, "load") or "",
                    humanize.level(per_core, warn, crit))
    net, io = sample["network"], sample["disk_io"]
    updates |= card("network", f"↓ {humanize.rate(net['recv_bytes_per_s'])}",
                    f"↑ {humanize.rate(net['sent_bytes_per_s'])} sent", "info")
    ops = (f"{io['read_ops_per_s']:.0f} / {io['write_ops_per_s']:.0f} ops/s"
           if io["read_ops_per_s"] is not None and io["write_ops_per_s"] is not None else "")
    updates |= card("diskio", f"R {humanize.rate(io['read_bytes_per_s'])}",
                    f"W {humanize.rate(io['write_bytes_per_s'])}  {ops}".rstrip(), "info")
    updates["host-uptime.children"] = "up " + humanize.duration(sample["host"]["uptime_seconds"])
    return updates


def show_host(updates: Updates, cursor: Cursor, sample: Mapping[str, Any]) -> None:
    """Hostname and OS, sent only when they differ from what the tab shows."""
    host = sample["host"]
    key = digest([host["hostname"], host["platform"]])
    if key != cursor["host"]:
        cursor["host"] = key
        updates["host-name.children"] = host["hostname"] or humanize.NA
        updates["host-platform.children"] = host["platform"] or humanize.NA


# --- tables and raw data -------------------------------------------------------------------

def digest(value: Any) -> str:
    """A short fingerprint of JSON-able data, to tell whether a tab already shows it."""
    return hashlib.blake2s(json.dumps(value).encode(), digest_size=6).hexdigest()


def bar(value: float | None, settings: Settings) -> dict[str, Any]:
    """A usage-bar cell: the browser draws it (see assets/perfmon.js)."""
    return {"bar": value, "level": humanize.level(value, settings.warning_percent, settings.critical_percent),
            "text": humanize.percent(value)}


def show_disks(updates: Updates, cursor: Cursor, sample: Mapping[str, Any], settings: Settings) -> None:
    """Rows of the disks table, sent only when what they say changed."""
    disks = sample.get("disks")
    if disks is None:
        rows: list[list[Any]] = [[error_for(sample, "disks") or "disk usage not readable"]]
    else:
        rows = [[d["mountpoint"], d["device"], d["fstype"], humanize.size(d["used_bytes"]),
                 humanize.size(d["total_bytes"]), bar(d["percent"], settings)] for d in disks]
    key = digest(rows)
    if key != cursor["disks"]:
        cursor["disks"] = key
        updates["disks-body.children"] = {"rows": rows}


def show_processes(updates: Updates, cursor: Cursor, table: Mapping[str, Any], sort: str) -> None:
    """Rows of the process table, sent when a new scan or another sort order is due."""
    key = f"{sort}:{table['sampled_at']}"
    if key == cursor["procs"]:
        return
    cursor["procs"] = key
    rows = [[p["pid"], p["name"] or humanize.NA, p["username"] or humanize.NA,
             humanize.percent(p["cpu_percent"]), humanize.percent(p["memory_percent"]),
             humanize.size(p["memory_rss_bytes"])] for p in table["processes"]]
    updates["processes-body.children"] = {"rows": rows}
    count = table["count"]
    note = table["error"] or f"top {len(rows)} of {count} processes by {sort}"
    updates["processes-note.children"] = f"{note}; scanned at {humanize.clock(table['sampled_at'])}"


def raw_json(sample: Mapping[str, Any]) -> str:
    """The sample as the API sent it, pretty-printed."""
    return json.dumps(sample, indent=2)
