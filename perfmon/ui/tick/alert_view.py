"""The alerts' part of a tick: the header's badge and the alerts panel, sent only when they change, and
what the rules mark on the charts.

Pure, as the rest of the drawing: what :func:`perfmon.ui.tick.reading.read_alerts` read comes in,
updates come out; the tab's cursor keeps a digest of what its badge and panel show (``alerts``),
so a tick that changes neither sends nothing for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from perfmon.core.shapes import Sample
from perfmon.ui.screen import alerts_panel, figures, ids
from perfmon.ui.screen.levels import Levels, watched_groups
from perfmon.ui.screen.overlays import Marks, marks
from perfmon.ui.screen.rows import ROW_GROUPS, charted
from perfmon.ui.source.alerts import AlertsRead
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.reading import Reading
from perfmon.ui.tick.row_updates import short_digest
from perfmon.ui.tick.view import View

DIGEST_BYTES = 4  # in the cursor, which every tick carries both ways: a change missed once in 4 billion


def show_alerts(view: View, cursor: Cursor, reading: Reading, config: TickConfig, now: float) -> Cursor:
    """The badge (how many fire, the worst severity) and the panel (active alerts, recent history)."""
    read, failure = reading.alerts, reading.alerts_failure
    text, class_name, title = alerts_panel.badge(None if read is None else read.summary, failure)
    body, history, note = alerts_panel.panel(read, now, config.signs_in, failure)
    shown = short_digest([text, class_name, title, body, history, note], DIGEST_BYTES)
    if shown == cursor.alerts:
        return cursor
    view.updates |= {f"{ids.ALERTS_BADGE}.children": text, f"{ids.ALERTS_BADGE}.className": class_name,
                     f"{ids.ALERTS_BADGE}.title": title, f"{ids.ALERTS_BODY}.children": body,
                     f"{ids.ALERTS_HISTORY}.children": history, f"{ids.ALERTS_NOTE}.children": note}
    return cursor.but(alerts=shown)


def chart_marks(levels: Levels, sample: Sample, alerts: AlertsRead | None) -> dict[str, Marks]:
    """What the alert rules draw on each fixed chart: their levels and firing periods (none without)."""
    if alerts is None:
        return {}
    active, history = alerts.summary["alerts"], alerts.history
    return {chart.graph_id: marks(levels, chart.watches, sample, active, history, chart.unit)
            for chart in figures.LINE_CHARTS if chart.watches}


def row_marks(levels: Levels, sample: Sample, rules: tuple[Mapping[str, Any], ...] | None,
              alerts: AlertsRead | None) -> dict[str, Marks]:
    """The firing periods of each row group whose chart a rule watches (an empty band while the alerts
    cannot be read: the band stays, and so does the chart)."""
    active, history = ([], ()) if alerts is None else (alerts.summary["alerts"], alerts.history)
    found, watched = {}, watched_groups(rules)
    for group in ROW_GROUPS:
        if group.name in watched:
            fields = charted(group)
            found[group.name] = marks(levels, [(group.name, f.series_name) for f in fields], sample, active,
                                      history, fields[0].unit)
    return found
