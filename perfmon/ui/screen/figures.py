"""Pure figure builders: ``/api/history`` columns in, plain-dict plotly figures out.

No Dash imports and no numpy: plotly serialises numpy arrays as base64 ``bdata``, which
``extendData`` cannot extend, and plain lists keep a figure's JSON small and predictable.
A figure is built whole when the tab's view changes (page load, range, zoom, API restart);
ticks then only append with ``extendData`` payloads made by :func:`extend_payload`.
Traces carry no ``x``: the browser fills it in from the tick's one list of times, for a
whole figure as for appended points (see ``assets/perfmon.js``), so times travel once.

A chart of buckets (several samples each) draws every column as three traces: the
minimum (no line), the maximum (filled down to the minimum: the band) and the mean.

Two things the browser finishes, so they cost nothing on the wire: a point with no data on
either side (one bucket with data, on a young install's month) gets a marker, as a line
needs two points; and a rate chart's values, sent in bytes per second, are divided by the
IEC unit its figure names in ``layout.meta`` (``{"unit": "MiB/s", "scale": 1048576}``),
chosen from the largest value at a rebuild, so axes and hovers read KiB/s or MiB/s like the
cards (plotly's own ``k`` and ``M`` are decimal). The height is the page's: the chart's box
in ``assets/perfmon.css``, which plotly fills (``responsive``), so no resize can collapse it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfmon.core.schema import HISTORY_UNITS
from perfmon.core.units import chart_time, rate_unit
from perfmon.ui.screen.ids import GRAPH_NAMES
from perfmon.ui.screen.overlays import NO_MARKS, Marks, decorate, firing_trace, runs

Series = Mapping[str, Sequence[Any]]
Figure = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
GRID = "#e6e9ef"
TEXT = "#3b4252"
DIGITS = {"percent": 1, "load": 2, "bytes_per_s": 0}  # what a chart can show; fewer bytes on the wire
OPTIONAL = frozenset({"swap_percent"})  # left out on a host without swap
ALONE_MARKER_PX = 6  # the marker of a point with no neighbour to draw a line to


@dataclass(frozen=True)
class LineChart:
    """One time-series chart: a trace per history column, all in the unit the schema gives them."""

    graph_id: str
    title: str
    columns: tuple[str, ...]
    names: tuple[str, ...]
    colors: tuple[str, ...]
    bare_title: str = ""  # the title without the optional columns
    watches: tuple[tuple[str, str], ...] = ()  # the series (group, field) alert rules may select: marks

    @property
    def unit(self) -> str:
        """The schema's unit of the columns (``percent``, ``bytes_per_s`` or ``load``)."""
        (unit,) = {HISTORY_UNITS[column] for column in self.columns}  # one axis, one unit
        return unit


@dataclass(frozen=True)
class Shape:
    """How a view draws its charts: bands of buckets or single samples, with swap or without."""

    band: bool = False
    swap: bool = True
    revision: str = ""  # a new view resets what the user zoomed or hid (plotly's uirevision)
    cores: int = 0  # the heatmap's rows even where no point has data (a young install's month)
    width: float = 0.0  # a point's bucket, in seconds (0: a point is a sample)


LINE_CHARTS = (
    LineChart("cpu", "CPU", ("cpu_percent",), ("CPU",), ("#3b82f6",), watches=(("cpu", "percent"),)),
    LineChart("load", "Load average (1 min)", ("load_1",), ("load",), ("#0ea5e9",),
              watches=(("cpu", "load_1"),)),
    LineChart("memory", "Memory and swap", ("memory_percent", "swap_percent"), ("memory", "swap"),
              ("#8b5cf6", "#f59e0b"), bare_title="Memory",
              watches=(("memory", "percent"), ("swap", "percent"))),
    LineChart("network", "Network (loopback excluded)", ("net_recv_bytes_per_s", "net_sent_bytes_per_s"),
              ("received", "sent"), ("#10b981", "#f97316")),
    LineChart("diskio", "Disk I/O", ("disk_read_bytes_per_s", "disk_write_bytes_per_s"),
              ("read", "written"), ("#6366f1", "#ef4444")),
)
CORES_GRAPH_ID = "cores"
CORES_COLUMN = "per_cpu_percent"
GRAPH_IDS = GRAPH_NAMES  # page order
HOVER = {"percent": "%{y:.1f} %", "load": "%{y:.2f}"}  # a rate's names its unit: rate_hover()


def line_chart(graph_id: str) -> LineChart:
    """The line chart with this id."""
    return next(chart for chart in LINE_CHARTS if chart.graph_id == graph_id)


def shown(chart: LineChart, swap: bool) -> list[tuple[str, str, str]]:
    """(column, name, colour) of each column the chart shows."""
    return [(column, name, color) for column, name, color in zip(chart.columns, chart.names, chart.colors,
                                                                   strict=True)
            if swap or column not in OPTIONAL]


def trace_columns(chart: LineChart, shape: Shape) -> list[str]:
    """The series behind each trace, in trace order: per column min, max and mean, or the value alone."""
    return [key for column, _, _ in shown(chart, shape.swap)
            for key in ((f"{column}_min", f"{column}_max", column) if shape.band else (column,))]


def rounded(values: Sequence[Any], unit: str) -> list[Any]:
    """Values to the digits a chart shows (whole bytes, a tenth of a percent): fewer bytes to send."""
    digits = DIGITS[unit]
    if digits == 0:
        return [None if value is None else round(value) for value in values]
    return [None if value is None else round(value, digits) for value in values]


def chart_times(timestamps: Sequence[float], with_ms: bool) -> list[str]:
    """The x values of points: local times, with milliseconds for sub-second points."""
    return [chart_time(ts, with_ms) for ts in timestamps]


def base_layout(title: str, revision: str) -> dict[str, Any]:
    """The layout every chart shares: no plotly template (it would add 6.5 KB per figure).

    Margins start small and grow to fit the tick labels (``automargin``), so no label is
    clipped on a phone; the legend sits under the title, clear of the mode bar's corner.
    """
    return {
        "title": {"text": title, "x": 0, "xref": "paper", "xanchor": "left", "y": 1, "yref": "container",
                  "yanchor": "top", "pad": {"t": 6}, "font": {"size": 14}},
        "font": {"family": FONT, "size": 11, "color": TEXT},
        "margin": {"l": 8, "r": 8, "t": 50, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"type": "date", "gridcolor": GRID, "linecolor": GRID, "automargin": True, "nticks": 6,
                  "tickangle": 0},
        "hovermode": "x unified",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom"},
        "uirevision": revision,  # keep the user's hidden traces while data streams in
    }


def y_axis(unit: str, rate: str = "") -> dict[str, Any]:
    """The value axis of a unit: percentages from 0 to 100, rates (in ``rate``) and load from zero up."""
    axis: dict[str, Any] = {"gridcolor": GRID, "fixedrange": True, "automargin": True}
    if unit == "percent":
        return axis | {"range": [0, 100], "ticksuffix": " %"}
    if unit == "bytes_per_s":
        return axis | {"rangemode": "tozero", "tickformat": "~g", "ticksuffix": f" {rate}"}
    return axis | {"rangemode": "tozero"}


def rate_hover(rate: str) -> str:
    """A rate's value on hover, in the chart's IEC unit: ``1.5 MiB/s``, ``1023 KiB/s``."""
    return f"%{{y:.4~g}} {rate}"


def chart_rate(chart: LineChart, series: Series) -> tuple[str, int]:
    """The IEC unit a rate chart shows, from its largest value (bands included); KiB/s when it has none."""
    keys = [f"{column}{suffix}" for column in chart.columns for suffix in ("", "_min", "_max")]
    values = [value for key in keys for value in series.get(key) or () if value is not None]
    return rate_unit(max(values, default=0.0))


def translucent(color: str, alpha: float = 0.18) -> str:
    """``#3b82f6`` as a light ``rgba()`` for a band."""
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def column_traces(column: str, name: str, color: str, hover: str, band: bool) -> list[dict[str, Any]]:
    """The traces of one column, without their data: the band's edges first, then the mean.

    The mean (or the value) marks a point that stands alone (``meta.alone``: the browser sizes
    the markers, see ``assets/perfmon.js``).
    """
    # A trace with markers gets 5 % of padding on each side of its x axis unless it fills: the
    # mean fills to the trace before it in a transparent colour, so the axis spans the range.
    mean = {"type": "scatter", "mode": "lines+markers", "name": name, "legendgroup": column,
            "line": {"color": color, "width": 1.6}, "marker": {"color": color, "size": 0},
            "fill": "tonexty", "fillcolor": "rgba(0,0,0,0)",
            "meta": {"alone": ALONE_MARKER_PX}, "hovertemplate": f"{hover}<extra>{name}</extra>"}
    if not band:
        return [mean]
    edge = {"type": "scatter", "mode": "lines", "legendgroup": column, "showlegend": False,
            "line": {"color": color, "width": 0}}
    low = edge | {"name": f"{name} min", "hovertemplate": f"{hover}<extra>{name} min</extra>"}
    high = edge | {"name": f"{name} max", "fill": "tonexty", "fillcolor": translucent(color),
                   "hovertemplate": f"{hover}<extra>{name} max</extra>"}
    return [low, high, mean]


def line_figure(chart: LineChart, series: Series, shape: Shape, marks: Marks = NO_MARKS) -> Figure:
    """A whole line chart from history columns (a bucket's ``_min`` and ``_max`` for its band); with the
    alert rules' ``marks`` (:mod:`perfmon.ui.screen.overlays`) on a chart they may watch."""
    count = len(series.get("timestamp", ()))
    rate, scale = chart_rate(chart, series) if chart.unit == "bytes_per_s" else ("", 1)
    hover = rate_hover(rate) if rate else HOVER[chart.unit]
    traces = [trace for column, name, color in shown(chart, shape.swap)
              for trace in column_traces(column, name, color, hover, shape.band)]
    for trace, key in zip(traces, trace_columns(chart, shape), strict=True):
        trace["y"] = rounded(series.get(key) or [None] * count, chart.unit)
    optional = any(column in OPTIONAL for column in chart.columns)
    layout = base_layout(chart.title if shape.swap or not optional else chart.bare_title, shape.revision)
    layout["yaxis"] = y_axis(chart.unit, rate)
    if rate:
        layout["meta"] = {"unit": rate, "scale": scale}  # the browser divides the bytes by it
    if len(shown(chart, shape.swap)) == 1:
        layout["showlegend"] = False
    if chart.watches:
        traces.append(firing_trace(marks.firing(list(series.get("timestamp", ())), shape.width)))
        decorate(layout, marks.lines, banded=True)
    if count == 0:
        empty_axes(layout)
    return {"data": traces, "layout": layout}


def empty_axes(layout: dict[str, Any]) -> None:
    """No tick labels on a chart without points: plotly would make up dates in the year 2000."""
    layout["xaxis"] = layout["xaxis"] | {"showticklabels": False}


def core_rows(series: Series, cores: int = 0) -> list[list[float | None]]:
    """Per-CPU percentages per point; a point that could not read them is a row of nulls.

    Rows are as wide as the widest read, or ``cores`` when no point has one.
    """
    rows = series.get(CORES_COLUMN, ())
    width = max((len(row) for row in rows if row), default=cores)
    return [list(row) if row else [None] * width for row in rows]


def cores_figure(series: Series, revision: str = "", cores: int = 0) -> Figure:
    """A heatmap of per-CPU usage (per bucket, the mean): time across, one row per CPU.

    ``transpose`` lets ``z`` hold one row per point, so a tick appends rows like any trace
    (the first; the second only holds the time axis).
    """
    rows = core_rows(series, cores)
    width = max((len(row) for row in rows), default=0)
    labels = [f"cpu{i}" for i in range(width)]
    trace = {
        "type": "heatmap", "transpose": True, "z": rows, "y": labels, "zmin": 0, "zmax": 100,
        "colorscale": [[0, "#eef2ff"], [0.5, "#60a5fa"], [0.8, "#f59e0b"], [1, "#dc2626"]],
        "colorbar": {"thickness": 8, "ticksuffix": " %", "len": 0.9},
        "hovertemplate": "%{y}: %{z:.1f} %<extra></extra>", "hoverongaps": False,
    }
    # plotly takes no time axis from a heatmap without a value (a young install's month): a
    # trace of nulls over the same times (the browser makes them, ``meta.span``) gives it one
    holder = {"type": "scatter", "mode": "lines", "meta": {"span": True}, "hoverinfo": "skip",
              "showlegend": False, "line": {"width": 0}}
    layout = base_layout("CPU per core", revision)
    # fixed rows, cpu0 on top, even before any has a value
    layout["yaxis"] = {"gridcolor": GRID, "fixedrange": True, "automargin": True, "type": "category",
                       "categoryarray": labels, "range": [len(labels) - 0.5, -0.5]}
    if not rows:
        empty_axes(layout)
        layout["yaxis"]["showticklabels"] = False  # no CPUs yet: plotly would number rows -1 to 4
    return {"data": [trace, holder], "layout": layout}


def figures(series: Series, shape: Shape | None = None,
            marks: Mapping[str, Marks] | None = None) -> dict[str, Figure]:
    """Every chart, whole, keyed by graph id (with the alert rules' marks by graph id)."""
    shape, marks = shape or Shape(), marks or {}
    built = {chart.graph_id: line_figure(chart, series, shape, marks.get(chart.graph_id, NO_MARKS))
             for chart in LINE_CHARTS}
    built[CORES_GRAPH_ID] = cores_figure(series, shape.revision, shape.cores)
    return built


def extend_payload(graph_id: str, series: Series, max_points: int, shape: Shape | None = None,
                   gap: bool = False, marks: Marks = NO_MARKS) -> list[Any]:
    """The ``extendData`` value appending ``series`` to one chart, without ``x``.

    ``gap`` starts with a null point so the line breaks where samples were lost. Rates stay
    in bytes per second: the browser divides them by the unit of the chart's figure.
    """
    if graph_id == CORES_GRAPH_ID:
        rows = core_rows(series)
        if gap:
            rows.insert(0, [None] * (len(rows[0]) if rows else 0))
        return [{"z": [rows]}, [0], max_points]
    chart, shape = line_chart(graph_id), shape or Shape()
    ys: list[list[Any]] = [([None] if gap else []) + rounded(series[key], chart.unit)
                           for key in trace_columns(chart, shape)]
    if chart.watches:  # the firing band, the figure's last trace
        ys.append(runs(([None] if gap else []) + marks.firing(list(series["timestamp"]), shape.width)))
    return [{"y": ys}, list(range(len(ys))), max_points]


def gap_time(first_timestamp: float, interval_seconds: float) -> float:
    """Where the null point of a gap goes: half an interval before the first new sample."""
    return first_timestamp - interval_seconds / 2
