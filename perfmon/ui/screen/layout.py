"""The dashboard's page: header, cards, charts, tables and raw data; no callbacks here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from perfmon.ui.screen import alerts_panel as alerts_panel_parts
from perfmon.ui.screen import figures, ids, row_charts
from perfmon.ui.screen.cards import CARDS, Card
from perfmon.ui.screen.rows import ROW_GROUPS

PROCESS_COLUMNS = ("PID", "Name", "User", "CPU", "Memory", "RSS")
DISK_COLUMNS = ("Mount", "Device", "Type", "Used", "Size", "Usage")
ALERT_COLUMNS = ("State", "Severity", "Alert", "Where", "Value", "Since")
GRAPH_CONFIG: Any = {  # dcc.Graph's Config, a TypedDict with every plotly option
    "displaylogo": False, "responsive": True, "displayModeBar": "hover",  # perfmon.css hides it on phones
    "showTips": False,  # its "Double-click to zoom back out" toast covered the cards; the zoom note says it
    "showSendToCloud": False,  # its "Share chart" button would upload this host's data to Plotly Cloud
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "zoomIn2d",
                               "zoomOut2d", "resetScale2d"],  # a double-click goes back
}


def header(api_url: str, signs_in: bool = False) -> html.Header:
    """Host identity on the left; connection badge, its reason, the data's age (and sign-out) on the right."""
    return html.Header(className="topbar", children=[
        html.Div(className="identity", children=[
            html.Span("perfmon", className="logo"),
            html.Span("…", id=ids.HOST_NAME, className="hostname"),
            html.Span("", id=ids.HOST_PLATFORM, className="muted"),
            html.Span("", id=ids.HOST_UPTIME, className="muted"),
        ]),
        html.Div(className="connection", children=[
            html.A("Alerts …", id=ids.ALERTS_BADGE, href=f"#{ids.ALERTS_PANEL}", className="badge alerts na",
                   title="the alerts firing now: see the alerts panel"),
            html.Span("Connecting", id=ids.STATUS, className="badge retry"),
            html.Span(f"to {api_url}", id=ids.STATUS_DETAIL, className="muted detail"),
            html.Span("waiting for the first sample", id=ids.DATA_AGE, className="age"),
            *([sign_out()] if signs_in else []),
        ]),
    ])


def sign_out() -> html.Form:
    """Signing out: a form posting to /logout (no script), for this browser or for every one."""
    return html.Form(method="post", action="/logout", className="logout", children=[
        html.Button("Sign out", type="submit", name="scope", value="this"),
        html.Button("everywhere", type="submit", name="scope", value="everywhere",
                    title="Sign out every browser signed in to this dashboard"),
    ])


def kpi_card(card: Card) -> html.Div:
    """One card: label, big value, a line of detail; its class carries the threshold colour.

    Hovering the card shows what its value means, from the schema.
    """
    return html.Div(id=ids.kpi(card.name), className="card na", title=card.field.description, children=[
        html.Div(card.label, className="card-label"),
        html.Div("…", id=ids.kpi(card.name, "-value"), className="card-value"),
        html.Div("", id=ids.kpi(card.name, "-sub"), className="card-sub"),
    ])


def segmented(component_id: str, options: Sequence[tuple[str, str | int]],
              value: str | int | None) -> dcc.RadioItems:
    """A row of toggle buttons (radio items styled by perfmon.css)."""
    return dcc.RadioItems(id=component_id, className="segmented", inline=True, value=value,
                          options=[{"label": label, "value": option} for label, option in options])


def charts(presets: Sequence[tuple[str, str]], default_preset: str) -> html.Section:
    """The history charts, starting empty: the range selector ((label, key) presets), zoom, CSV download."""
    empty = figures.figures({})
    return html.Section(className="panel", children=[
        html.Div(className="panel-head", children=[
            html.Div(className="panel-title", children=[
                html.H2("History"), html.Span("", id=ids.RESOLUTION, className="muted note")]),
            html.Div(className="panel-tools", children=[
                segmented(ids.RANGE, presets, default_preset),
                html.Button("Download CSV", id=ids.DOWNLOAD_BUTTON, className="button", n_clicks=0,
                            title="the shown range as CSV: min, mean and max per point, "
                                  "as finely as the API keeps it (up to 10,000 rows)"),
            ]),
        ]),
        html.Div(className="range-notes", children=[
            html.Span("", id=ids.RANGE_NOTE, className="zoom-note"),
            html.Span("", id=ids.DOWNLOAD_NOTE, className="muted note"),
        ]),
        # Each chart fills a box whose height the stylesheet fixes: plotly's resize (on any change
        # of the page's width) drops a figure's own height, and a box sized by its content then
        # collapsed to 0 px, the charts drawn over each other.
        html.Div(className="charts", children=[
            html.Div(className="chart-box", children=dcc.Graph(
                id=ids.graph(name), figure=empty[name], config=GRAPH_CONFIG, className="chart",
                responsive=True))
            for name in ids.GRAPH_NAMES
        ]),
        dcc.Download(id=ids.DOWNLOAD),
    ])


def row_panels() -> list[html.Section]:
    """A panel per row group: a card per row (the ticks fill them in) over a chart with a trace per row."""
    return [html.Section(className="panel rows", id=f"rows-{group.name}", children=[
        html.Div(className="panel-head", children=[html.Div(className="panel-title", children=[
            html.H2(group.title), html.Span(group.description, className="muted note")])]),
        html.Div("…", id=ids.row_cards(group.name), className="cards row-cards"),
        html.Div(className="chart-box", children=dcc.Graph(
            id=ids.row_graph(group.name), figure=row_charts.figure(group, [], [], {}), config=GRAPH_CONFIG,
            className="chart", responsive=True)),
    ]) for group in ROW_GROUPS]


def alerts_panel(signs_in: bool) -> html.Section:
    """The active alerts (silenced from here when signed in) and what they did recently."""
    tools = [] if not signs_in else [
        html.Span("Silence for", className="muted note"),
        segmented(ids.SILENCE_FOR, list(alerts_panel_parts.SILENCE_FOR),
                  alerts_panel_parts.SILENCE_FOR[0][1]),
        html.Span("", id=ids.ALERTS_ACTION, className="muted note", role="status"),
    ]
    return html.Section(className="panel alerts-panel", id=ids.ALERTS_PANEL, children=[
        html.Div(className="panel-head", children=[
            html.Div(className="panel-title", children=[
                html.H2("Alerts"), html.Span("", id=ids.ALERTS_NOTE, className="muted note")]),
            html.Div(className="panel-tools", children=tools),
        ]),
        html.Div(className="table-wrap", children=html.Table(className="data alerts", children=[
            html.Thead(html.Tr([html.Th(column) for column in ALERT_COLUMNS + (("",) if signs_in else ())])),
            html.Tbody(id=ids.ALERTS_BODY),
        ])),
        html.Details(className="alerts-recent", children=[
            html.Summary("Recent transitions"), html.Ul(id=ids.ALERTS_HISTORY, className="alerts-history")]),
    ])


def table(body_id: str, columns: tuple[str, ...], name: str) -> html.Div:
    """A table whose body the browser fills from compact rows; ``name`` is its class (perfmon.css)."""
    return html.Div(className="table-wrap", children=html.Table(className=f"data {name}", children=[
        html.Thead(html.Tr([html.Th(column) for column in columns])),
        html.Tbody(id=body_id),
    ]))


def tables() -> html.Div:
    """Top processes (by CPU or memory) and disk usage per mount."""
    return html.Div(className="tables", children=[
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[
                html.H2("Top processes"),
                segmented(ids.PROCESS_SORT, [("CPU", "cpu"), ("Memory", "memory")], "cpu"),
            ]),
            table(ids.PROCESSES_BODY, PROCESS_COLUMNS, "processes"),
            html.Div("", id=ids.PROCESSES_NOTE, className="muted note"),
        ]),
        html.Section(className="panel", children=[
            html.Div(className="panel-head", children=[html.H2("Disks")]),
            table(ids.DISKS_BODY, DISK_COLUMNS, "disks"),
        ]),
    ])


def raw_panel() -> html.Section:
    """The latest /api/performance JSON; fetched only while open."""
    return html.Section(className="panel", children=[
        dcc.Checklist(id=ids.RAW_OPEN, className="raw-toggle", value=[],
                      options=[{"label": " Raw API data (latest /api/performance)", "value": "open"}]),
        html.Pre("", id=ids.RAW_JSON, className="raw hidden"),
    ])


def page(poll_seconds: float, api_url: str, presets: Sequence[tuple[str, str]], default_preset: str,
         signs_in: bool = False) -> html.Div:
    """The whole page, with the tab's cursor and the two timers; a sign-out link when there is a token."""
    return html.Div(id=ids.PAGE, className="page", children=[
        header(api_url, signs_in),
        html.Main(children=[
            html.Div(className="cards", children=[kpi_card(card) for card in CARDS]),
            alerts_panel(signs_in),
            charts(presets, default_preset),
            *row_panels(),
            tables(),
            raw_panel(),
        ]),
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.SPAN, storage_type="memory"),
        dcc.Store(id=ids.ZOOM, storage_type="memory"),
        dcc.Store(id=ids.CURSOR, storage_type="memory"),
        dcc.Store(id=ids.RENDERED, storage_type="memory"),
        dcc.Store(id=ids.VIEW, storage_type="memory"),
        dcc.Store(id=ids.RENDER_KEYS_STORE, data=list(ids.RENDER_KEYS)),
        dcc.Store(id=ids.SETTINGS, data={"poll_seconds": poll_seconds}),
        # The poll's input: its own timer is off; assets/perfmon.js counts ticks at the times each
        # view says (just after the API's next sample), so they follow the sampler, never overlap.
        dcc.Interval(id=ids.TICK, interval=int(poll_seconds * 1000), disabled=True),
        dcc.Interval(id=ids.CLOCK, interval=1000),
    ])
