"""Pure figure builders: ``/api/history`` columns in, plain-dict plotly figures out.

No Dash imports and no numpy: plotly serialises numpy arrays as base64 ``bdata``, which
``extendData`` cannot extend, and plain lists keep a figure's JSON small and predictable.
A figure is built whole once (page load, window change, API restart); each tick then only
appends with ``extendData`` payloads made by :func:`extend_payload`, whose ``x`` the
browser fills in from the one shared list of times (see ``assets/perfmon.js``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfmon.core.schema import HISTORY_UNITS
from perfmon.core.units import chart_time
from perfmon.ui.ids import GRAPH_NAMES

Series = Mapping[str, Sequence[Any]]
Figure = dict[str, Any]

WINDOWS_SECONDS = (300, 900, 3600)
DEFAULT_WINDOW_SECONDS = 300
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
GRID = "#e6e9ef"
TEXT = "#3b4252"


@dataclass(frozen=True)
class LineChart:
    """One time-series chart: a trace per history column, all in the unit the schema gives them."""

    graph_id: str
    title: str
    columns: tuple[str, ...]
    names: tuple[str, ...]
    colors: tuple[str, ...]

    @property
    def unit(self) -> str:
        """The schema's unit of the columns (``percent``, ``bytes_per_s`` or ``load``)."""
        (unit,) = {HISTORY_UNITS[column] for column in self.columns}  # one axis, one unit
        return unit


LINE_CHARTS = (
    LineChart("cpu", "CPU", ("cpu_percent",), ("CPU",), ("#3b82f6",)),
    LineChart("load", "Load average (1 min)", ("load_1",), ("load",), ("#0ea5e9",)),
    LineChart("memory", "Memory and swap", ("memory_percent", "swap_percent"), ("memory", "swap"),
              ("#8b5cf6", "#f59e0b")),
    LineChart("network", "Network (loopback excluded)", ("net_recv_bytes_per_s", "net_sent_bytes_per_s"),
              ("received", "sent"), ("#10b981", "#f97316")),
    LineChart("diskio", "Disk I/O", ("disk_read_bytes_per_s", "disk_write_bytes_per_s"),
              ("read", "written"), ("#6366f1", "#ef4444")),
)
CORES_GRAPH_ID = "cores"
CORES_COLUMN = "per_cpu_percent"
GRAPH_IDS = GRAPH_NAMES  # page order
HOVER = {"percent": "%{y:.1f} %", "bytes_per_s": "%{y:.3s}B/s", "load": "%{y:.2f}"}


def window_points(window_seconds: float, interval_seconds: float) -> int:
    """How many samples a chart keeps to span the window (``maxPoints``)."""
    return max(2, math.ceil(window_seconds / interval_seconds))


def chart_times(series: Series, interval_seconds: float) -> list[str]:
    """The x values of a history slice: local times, with milliseconds for sub-second sampling."""
    with_ms = interval_seconds < 1
    return [chart_time(ts, with_ms) for ts in series.get("timestamp", ())]


def base_layout(title: str) -> dict[str, Any]:
    """The layout every chart shares: no plotly template (it would add 6.5 KB per figure)."""
    return {
        "title": {"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 14}},
        "font": {"family": FONT, "size": 11, "color": TEXT},
        "height": 240,
        "margin": {"l": 52, "r": 12, "t": 34, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"type": "date", "gridcolor": GRID, "linecolor": GRID},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12, "yanchor": "bottom"},
        "uirevision": "keep",  # keep the user's zoom and hidden traces while data streams in
    }


def line_figure(chart: LineChart, series: Series, x: Sequence[str]) -> Figure:
    """A whole line chart from history columns."""
    hover = HOVER[chart.unit]
    traces = [
        {"type": "scatter", "mode": "lines", "name": name, "x": list(x),
         "y": list(series.get(column, [None] * len(x))), "line": {"color": color, "width": 1.6},
         "hovertemplate": hover + "<extra>" + name + "</extra>"}
        for column, name, color in zip(chart.columns, chart.names, chart.colors, strict=True)
    ]
    layout = base_layout(chart.title)
    if chart.unit == "percent":
        layout["yaxis"] = {"range": [0, 100], "ticksuffix": " %", "gridcolor": GRID, "fixedrange": True}
    elif chart.unit == "bytes_per_s":
        layout["yaxis"] = {"rangemode": "tozero", "tickformat": ".2s", "ticksuffix": "B/s",
                           "gridcolor": GRID, "fixedrange": True}
    else:
        layout["yaxis"] = {"rangemode": "tozero", "gridcolor": GRID, "fixedrange": True}
    if len(traces) == 1:
        layout["showlegend"] = False
    return {"data": traces, "layout": layout}


def core_rows(series: Series) -> list[list[float | None]]:
    """Per-CPU percentages per sample; a sample that could not read them is a row of nulls."""
    rows = series.get(CORES_COLUMN, ())
    width = max((len(row) for row in rows if row), default=0)
    return [list(row) if row else [None] * width for row in rows]


def cores_figure(series: Series, x: Sequence[str]) -> Figure:
    """A heatmap of per-CPU usage: time across, one row per CPU.

    ``transpose`` lets ``z`` hold one row per sample, so a tick appends rows like any trace.
    """
    rows = core_rows(series)
    width = max((len(row) for row in rows), default=0)
    trace = {
        "type": "heatmap", "transpose": True, "x": list(x), "z": rows,
        "y": [f"cpu{i}" for i in range(width)], "zmin": 0, "zmax": 100,
        "colorscale": [[0, "#eef2ff"], [0.5, "#60a5fa"], [0.8, "#f59e0b"], [1, "#dc2626"]],
        "colorbar": {"thickness": 8, "ticksuffix": " %", "len": 0.9},
        "hovertemplate": "%{y}: %{z:.1f} %<extra></extra>",
    }
    layout = base_layout("CPU per core")
    layout["yaxis"] = {"gridcolor": GRID, "fixedrange": True, "autorange": "reversed"}
    return {"data": [trace], "layout": layout}


def figures(series: Series, interval_seconds: float) -> dict[str, Figure]:
    """Every chart, whole, keyed by graph id."""
    x = chart_times(series, interval_seconds)
    built = {chart.graph_id: line_figure(chart, series, x) for chart in LINE_CHARTS}
    built[CORES_GRAPH_ID] = cores_figure(series, x)
    return built


def extend_payload(graph_id: str, series: Series, max_points: int, gap: bool = False) -> list[Any]:
    """The ``extendData`` value appending ``series`` to one chart, without ``x``.

    ``gap`` starts with a null point so the line breaks where samples were lost.
    """
    if graph_id == CORES_GRAPH_ID:
        rows = core_rows(series)
        if gap:
            rows.insert(0, [None] * (len(rows[0]) if rows else 0))
        return [{"z": [rows]}, [0], max_points]
    chart = next(chart for chart in LINE_CHARTS if chart.graph_id == graph_id)
    ys = [([None] if gap else []) + list(series[column]) for column in chart.columns]
    return [{"y": ys}, list(range(len(ys))), max_points]


def gap_time(first_timestamp: float, interval_seconds: float) -> float:
    """Where the null point of a gap goes: half an interval before the first new sample."""
    return first_timestamp - interval_seconds / 2
