"""The chart template, made once per group: a trace per row and field, in the row's colour.

Pure, as ``perfmon.ui.figures``: rows and values in, plain-dict plotly figures and
``extendData`` payloads out. Traces are ordered by row name, then by the group's charted
fields (solid, then dashed), so a trace's index follows from the row set alone: a figure is
built whole when the row set changes (a disk appears), and points are appended otherwise.

Unlike the fixed charts, each trace carries its own ``x``: a row chart is fed from its own
answers (the sample's values, or ``/api/history?series=``), whose times need not be the
tick's shared ones (``assets/perfmon.js`` keeps a trace's own ``x``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfmon.core.metrics import Field, Group, SeriesKey
from perfmon.core.units import rate_unit
from perfmon.ui.screen.figures import Figure, base_layout, column_traces, empty_axes, rate_hover, y_axis
from perfmon.ui.screen.overlays import decorate, firing_trace, runs
from perfmon.ui.screen.row_cards import field_label
from perfmon.ui.screen.rows import Shown, charted

Columns = Mapping[str, Sequence[Any]]  # values by series key (``str(SeriesKey)``)
DASHES = ("solid", "dash", "dot", "dashdot")
DIGITS = {"percent": 1, "celsius": 1, "load": 2}  # bytes and operations: whole numbers
HOVER = {"percent": "%{y:.1f} %", "celsius": "%{y:.1f} °C", "rpm": "%{y:.0f} rpm"}
SUFFIX = {"percent": " %", "celsius": " °C", "rpm": " rpm"}


def key_of(group: Group, row: Shown, f: Field) -> str:
    """The series key of one trace, as ``/api/history?series=`` names its column."""
    return str(SeriesKey(group.name, f.series_name, row.labels))


def traces_of(group: Group, rows: Sequence[Shown]) -> list[tuple[Shown, Field]]:
    """(row, field) of each trace, in trace order."""
    return [(row, f) for row in rows for f in charted(group)]


def trace_keys(group: Group, rows: Sequence[Shown]) -> list[str]:
    """The series key of each trace, in trace order."""
    return [key_of(group, row, f) for row, f in traces_of(group, rows)]


def rounded(values: Sequence[Any], unit: str) -> list[Any]:
    """Values to the digits a chart shows: fewer bytes on the wire."""
    digits = DIGITS.get(unit, 0)
    if digits == 0:
        return [None if v is None else round(v) for v in values]
    return [None if v is None else round(v, digits) for v in values]


def axis(unit: str, rate: str) -> dict[str, Any]:
    """The value axis: percentages 0-100, rates in the chart's IEC unit, anything else from zero."""
    found = y_axis(unit, rate)
    if unit in SUFFIX and unit != "percent":
        found["ticksuffix"] = SUFFIX[unit]
    return found


def figure(group: Group, rows: Sequence[Shown], x: Sequence[str], columns: Columns,
           revision: str = "", shared_x: bool = False,
           lines: Sequence[tuple[float, str, str]] = (), band: Sequence[int | None] | None = None) -> Figure:
    """The group's chart, whole: a trace per row and field over the times ``x``; ``lines``: the levels
    of the alert rules that watch it (:mod:`perfmon.ui.screen.overlays`).

    ``shared_x``: ``x`` is the view's own (the fixed charts' times), which the browser puts into
    every trace that has none (``assets/perfmon.js``), so the traces leave it out.
    """
    fields = charted(group)
    unit = fields[0].unit
    largest = max((abs(v) for key in trace_keys(group, rows) for v in columns.get(key, ()) if v is not None),
                  default=0.0)
    rate, scale = rate_unit(largest) if unit == "bytes_per_s" else ("", 1)
    hover = rate_hover(rate) if rate else HOVER.get(unit, "%{y:.4~g}")
    data = []
    for (row, f), key in zip(traces_of(group, rows), trace_keys(group, rows), strict=True):
        name = row.title if len(fields) == 1 else f"{row.title} {field_label(f)}"
        (trace,) = column_traces(key, name, row.color, hover, band=False)
        trace["line"]["dash"] = DASHES[fields.index(f) % len(DASHES)]
        if not shared_x:
            trace["x"] = list(x)
        trace["y"] = rounded(columns.get(key) or [None] * len(x), unit)
        data.append(trace)
    unit_word = field_label(fields[0]) if len(fields) == 1 else " and ".join(field_label(f) for f in fields)
    layout = base_layout(f"{group.title}: {unit_word}", revision)
    layout["yaxis"] = axis(unit, rate)
    if rate:
        layout["meta"] = {"unit": rate, "scale": scale}  # the browser divides the bytes by it
    if band is not None:  # the alert rules' firing periods, the last trace
        trace = firing_trace(band)
        if not shared_x:
            trace["x"] = list(x)
        data.append(trace)
    if unit != "bytes_per_s":  # a rate's values are scaled in the browser; a level would not be
        decorate(layout, lines, banded=band is not None)
    if not x or not rows:  # no points, or no rows to draw them (a host without sensors): no made-up dates
        empty_axes(layout)
    return {"data": data, "layout": layout}


def extend(group: Group, rows: Sequence[Shown], x: Sequence[str], columns: Columns,
           max_points: int, shared_x: bool = False, band: Sequence[int | None] | None = None) -> list[Any]:
    """The ``extendData`` value appending ``columns`` at the times ``x`` to every trace.

    ``x`` is sent once, not per trace: the browser gives it to each (``assets/perfmon.js``); with
    ``shared_x`` not at all, as the times are the last of the fixed charts' (the view's ``x``).
    """
    unit = charted(group)[0].unit
    keys = trace_keys(group, rows)
    ys: list[Any] = [rounded(columns.get(key) or [None] * len(x), unit) for key in keys]
    if band is not None:  # the firing band, the figure's last trace, as runs
        ys.append(runs(band))
    data: dict[str, Any] = {"y": ys} if shared_x else {"x": [list(x)], "y": ys}  # one x for all: perfmon.js
    return [data, list(range(len(ys))), max_points]


def sample_columns(group: Group, rows: Sequence[Shown]) -> dict[str, list[Any]]:
    """One point per trace from the rows' values in a sample, keyed as history keys them."""
    return {key_of(group, row, f): [row.values.get(f.name)] for row, f in traces_of(group, rows)}
