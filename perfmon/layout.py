"""The dashboard's page: header, cards, charts, tables and raw data; no callbacks here.

``RENDER_KEYS`` lists, in order, every ``component.property`` a tick may update; the
browser fans a tick's sparse updates out to them (``assets/perfmon.js``).
"""

from __future__ import annotations

from dash import dcc, html

from perfmon import figures
from perfmon.view import KPI_NAMES, Settings

KPI_LABELS = {
    "cpu": "CPU", "memory": "Memory", "swap": "Swap", "disk": "Root filesystem",
    "load": "Load (1 min)", "network": "Network", "diskio": "Disk I/O",
}
PROCESS_COLUMNS = ("PID", "Name", "User", "CPU", "Memory", "RSS")
DISK_COLUMNS = ("Mount", "Device", "Type", "Used", "Size", "Usage")
GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]}

RENDER_KEYS: tuple[str, ...] = (
    "page.className", "status.children", "status.className", "status-detail.children",
    "host-name.children", "host-platform.children", "host-uptime.children",
    *(f"kpi-{name}{part}" for name in KPI_NAMES
      for part in (".className", "-value.children", "-sub.children")),
    *(f"graph-{graph_id}.{prop}" for graph_id in figures.GRAPH_IDS for prop in ("figure", "extendData")),
    "processes-body.children", "processes-note.children", "disks-body.children",
    "raw-json.children", "raw-json.className",
)


def header(api_url: str) -> html.Header:
    """Host identity on the left; connection badge, its reason and the data's age on the right."""
    return html.Header(className="topbar", children=[
        html.Div(className="identity", children=[
            html.Span("perfmon", className="logo"),
            html.Span("…", id="host-name", className="hostname"),
            html.Span("", id="host-platform", className="muted"),
            html.Span("", id="host-uptime", className="muted"),
        ]),
        html.Div(className="connection", children=[
            html.Span("Connecting", id="status", className="badge retry"),
            html.Span(f"to {api_url}", id="status-detail", className="muted detail"),
            html.Span("waiting for the first sample", id="data-age", className="age"),
        ]),
    ])


def kpi_card(name: str) -> html.Div:
    """One card: label, big value, a line of detail; its class carries the threshold colour."""
    return html.Div(id=f"kpi-{name}", className="card na", children=[
        html.Div(KPI_LABELS[name], className="card-label"),
        html.Div("…", id=f"kpi-{name}-value", className="card-value"),
        html.Div("", id=f"kpi-{name}-sub", className="card-sub"),
    ])


def segmented(component_id: str, options: list[tuple[str, object]], value: object) -> dcc.RadioItems:
    """A row of toggle buttons (radio items styled by perfmon.css)."""
    return dcc.RadioItems(id=component_id, className="segmented", inline=True, value=value,
                          options=[{"label": label, "value": option} for label, option in options])


def charts() -> html.Section:
    """The history charts with their window selector, starting empty."""
    empty = figures.figures({}, 1.0)
    windows = [(f"{seconds // 60} min", seconds) for seconds in figures.WINDOWS_SECONDS]
    return html.Section(className="panel", children=[
        html.Div(className="panel-head", children=[
            html.H2("History"), segmented("window", windows, figures.DEFAULT_WINDOW_SECONDS)]),
        html.Div(className="charts", children=[
            dcc.Graph(id=f"graph-{graph_id}", figure=empty[graph_id], config=GRAPH_CONFIG,
                      className="chart")
            for graph_id in figures.GRAPH_IDS
        ]),
    ])


def table(body_id: str, columns: tuple[str, ...]) -> html.Div:
    """A table whose body the browser fills from compact rows."""
    return html.Div(className="table-wrap", children=html.Table(className="data", children=[
        html.Thead(html.Tr([html.Th(column) for column in columns])),
        html.Tbody(id=body_id),
    ]))


def tables() -> html.Div:
    """Top processes (by CPU or memory) and disk usage per mount."""
    return html.Div(className="tables", children=[
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Top processes"),
                segmented("process-sort", [("CPU", "cpu"), ("Memory", "memory")], "cpu"),
            ]),
            table("processes-body", PROCESS_COLUMNS),
            html.Div("", id="processes-note", className="muted note"),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Disks")]),
            table("disks-body", DISK_COLUMNS),
        ]),
    ])


def raw_panel() -> html.Section:
    """The latest /api/performance JSON; fetched only while open."""
    return html.Section(className="panel", children=[
        dcc.Checklist(id="raw-open", className="raw-toggle", value=[],
                      options=[{"label": " Raw API data (latest /api/performance)", "value": "open"}]),
        html.Pre("", id="raw-json", className="raw hidden"),
    ])


def page(settings: Settings, api_url: str) -> html.Div:
    """The whole page, with the tab's cursor and the two timers."""
    return html.Div(id="page", className="page", children=[
        header(api_url),
        html.Main(children=[
            html.Div(className="cards", children=[kpi_card(name) for name in KPI_NAMES]),
            charts(),
            tables(),
            raw_panel(),
        ]),
        dcc.Store(id="cursor", storage_type="memory"),
        dcc.Store(id="view", storage_type="memory"),
        dcc.Store(id="render-keys", data=list(RENDER_KEYS)),
        dcc.Store(id="settings", data={"poll_seconds": settings.poll_interval_seconds}),
        dcc.Interval(id="tick", interval=int(settings.poll_interval_seconds * 1000)),
        dcc.Interval(id="clock", interval=1000),
    ])
