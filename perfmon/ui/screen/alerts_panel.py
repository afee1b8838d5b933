"""The alerts on screen: the header's count and worst severity, and the panel of active alerts and history.

Pure: ``/api/alerts`` and ``/api/alerts/history`` answers in, component dicts out (the shape
Dash renders, as the tick sends them). A row's Silence button, or Lift for a silence set
through the API, is drawn only when the dashboard signs people in: its pattern id names the
alert or the silence, and :mod:`perfmon.ui.app` answers the click through the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfmon.core import units

Json = Mapping[str, Any]
Component = dict[str, Any]
NS = "dash_html_components"
LEVEL = {"critical": "crit", "warning": "warn", "info": "info"}
ORDER = ("critical", "warning", "info")
RECENT = 12  # transitions the panel lists, newest first
SILENCE = "silence"  # the pattern id types of the panel's buttons
LIFT = "lift"
SILENCE_FOR = (("1 h", 3600), ("4 h", 14400), ("1 day", 86400), ("1 week", 604800))


def el(kind: str, children: Any = None, **props: Any) -> Component:
    """One HTML component as Dash renders it."""
    return {"type": kind, "namespace": NS, "props": {"children": children, **props}}


def badge(summary: Json | None, failure: str = "") -> tuple[str, str, str]:
    """The header badge's text, class and title: how many fire, coloured by the worst severity."""
    if summary is None:
        return "Alerts ?", "badge alerts na", f"the alerts could not be read: {failure}" if failure else ""
    firing: Mapping[str, int] = summary["firing"]
    total = sum(firing.values())
    pending = sum(1 for a in summary["alerts"] if a["state"] == "pending")
    if total == 0:
        title = f"{pending} pending" if pending else "no alert is firing"
        return ("No alerts" if not pending else f"{pending} pending"), "badge alerts ok", title
    worst = next(s for s in ORDER if firing.get(s))
    counted = ", ".join(f"{firing[s]} {s}" for s in ORDER if firing.get(s))
    return f"{total} firing · {worst}", f"badge alerts {LEVEL[worst]}", counted


def where(alert: Json) -> str:
    """The row's labels a person tells alerts apart by (``mountpoint=/``): not its name or severity."""
    return ", ".join(f"{k}={v}" for k, v in alert["labels"].items() if k not in ("alertname", "severity"))


def level_text(alert: Json) -> str:
    """``96.2 % > 95 %``: the value against the rule's level."""
    unit = alert["unit"]
    return f"{units.show(unit, alert['value'])} {alert['operator']} {units.show(unit, alert['threshold'])}"


def active_rows(alerts: Sequence[Json], now: float, signs_in: bool) -> list[Component]:
    """A table row per active alert: state, severity, name, where, value and level, since when."""
    out = []
    for alert in alerts:
        state, severity = alert["state"], alert["severity"]
        since = alert["fired_at"] if state == "firing" else alert["active_since"]
        pill = LEVEL[severity] if state == "firing" else "na"
        cells = [el("Td", el("Span", state, className=f"pill {pill}")),
                 el("Td", severity), el("Td", alert["alertname"], title=alert.get("summary") or ""),
                 el("Td", where(alert)), el("Td", level_text(alert)),
                 el("Td", f"{units.duration(max(0.0, now - since))} ago", title=units.clock(since))]
        if signs_in:
            cells.append(el("Td", action(alert)))
        elif alert.get("silenced_by"):
            cells.append(el("Td", "silenced"))
        out.append(el("Tr", cells, className=f"alert-row {state}"))
    return out


def action(alert: Json) -> Component:
    """Silence the alert, or lift the silence set through the API that keeps it quiet."""
    silenced = list(alert.get("silenced_by") or ())
    if silenced:
        lifted = next((s for s in silenced if s.startswith("api-")), None)
        if lifted is None:
            return el("Span", "silenced by the rules file", className="muted")
        return el("Button", "Lift silence", id={"type": LIFT, "silence": lifted}, n_clicks=0,
                  className="button small", title=f"silenced ({lifted}): let its channels hear of it again")
    return el("Button", "Silence", id={"type": SILENCE, "alert": alert["id"]}, n_clicks=0,
              className="button small", title="keep this alert from every channel for the chosen time")


def history_rows(transitions: Sequence[Json]) -> list[Component]:
    """The newest transitions first: when, what happened, which alert, at what value."""
    out = []
    for t in list(reversed(transitions))[:RECENT]:
        kind = t["kind"] if t["kind"] != "resolved" else f"resolved ({t.get('reason') or 'cleared'})"
        pill = "ok" if t["kind"] == "resolved" else LEVEL[t["severity"]]
        out.append(el("Li", [el("Span", units.clock(t["at"]), className="muted"), " ",
                             el("Span", kind, className=f"pill {pill}"),
                             f" {t['alertname']} {where(t)} · {level_text(t)}"]))
    return out


def panel(read: Any, now: float, signs_in: bool, failure: str = "") -> tuple[Any, Any, str]:
    """The panel's active table body, its recent history list and its note."""
    if read is None:
        return [el("Tr", el("Td", f"the alerts could not be read: {failure}", colSpan=7))], [], ""
    alerts = read.summary["alerts"]
    body = active_rows(alerts, now, signs_in) or [el("Tr", el("Td", "no alert is pending or firing",
                                                                 colSpan=7, className="muted"))]
    rules, days = len(read.rules), max(1, round((now - read.since) / 86400))
    note = (f"{rules} rule{'s' if rules != 1 else ''}, evaluated on every sample · "
            f"{len(read.history)} transition{'s' if len(read.history) != 1 else ''} in the last "
            f"{'day' if days == 1 else f'{days} days'}")
    return body, history_rows(read.history), note
