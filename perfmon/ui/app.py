"""The Dash dashboard: the app factory and its callbacks.

A tick is one small server callback (``poll``) that returns the tab's new cursor and a
sparse list of screen updates; a clientside callback fans those out to the components,
and another ages the "updated N s ago" line every second, both without a request. The
span the charts show comes from the range selector, a zoom or the URL (``choose_span``),
and the CSV download is a callback of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from perfmon.settings import DashboardConfig
from perfmon.ui.backend import Backend
from perfmon.ui.edge import login
from perfmon.ui.edge.asgi import DashboardEdge
from perfmon.ui.edge.direct import Direct
from perfmon.ui.edge.gate import Gate
from perfmon.ui.edge.sessions import Sessions
from perfmon.ui.edge.throttle import FailedLogins
from perfmon.ui.screen import alerts_panel, ids, layout
from perfmon.ui.source import silences
from perfmon.ui.source.client import ApiUnavailable, PerformanceClient
from perfmon.ui.tick import export, inputs, ranges, signature
from perfmon.ui.tick.config import TickConfig
from perfmon.ui.tick.step import tick
from perfmon.ui.tick.view import View

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("assets")
KEY_INDEX = {key: str(index) for index, key in enumerate(ids.RENDER_KEYS)}
GRAPHS = tuple(ids.graph(name) for name in ids.GRAPH_NAMES)


def encode(view: View) -> dict[str, Any]:
    """The view as the browser's render function reads it: updates keyed by output index."""
    encoded: dict[str, Any] = {"o": {KEY_INDEX[key]: value for key, value in view.updates.items()},
                               "n": view.n}
    if view.full:
        encoded["full"] = 1
    if view.x:
        encoded["x"] = view.x
    if view.age_seconds is not None:
        encoded["age"] = view.age_seconds
    if view.rows:
        encoded["r"] = view.rows
    if view.next_seconds is not None:
        encoded["next"] = round(view.next_seconds * 1000)  # ms, for the browser's setTimeout
    return encoded


def api_client(config: DashboardConfig) -> PerformanceClient:
    """The client of the configured API: the token as a bearer, the API's CA if one is given."""
    return PerformanceClient(config.api_url, config.poll_interval_seconds, token=config.security.token,
                             ca_file=config.api_ca_file, check_hostname=config.api_check_hostname)


def create_dash_app(config: DashboardConfig,
                    client: PerformanceClient | None = None) -> tuple[dash.Dash, Direct]:
    """Build the Dash app for one API, and its poll as the edge answers it; nothing is fetched until
    a page polls."""
    tick_config = TickConfig(config.poll_interval_seconds, config.warning_percent, config.critical_percent,
                             signs_in=config.security.token is not None)
    client = client or api_client(config)
    app = dash.Dash(__name__, title="perfmon", update_title="", assets_folder=str(ASSETS), backend=Backend,
                    assets_ignore=login.STYLESHEET.name,  # the login page's, served by the gate
                    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    presets = [(ranges.LABELS[name], name) for name in ranges.PRESETS]
    app.layout = layout.page(tick_config.poll_interval_seconds, config.api_url, presets,
                             ranges.DEFAULT_PRESET,
                             signs_in=config.security.token is not None)
    return app, register_callbacks(app, client, tick_config)


def create_dashboard(config: DashboardConfig, client: PerformanceClient | None = None, *,
                     wall: Callable[[], float] = time.time,
                     monotonic: Callable[[], float] = time.monotonic) -> DashboardEdge:
    """The dashboard as the ASGI app its server runs: the Dash app behind its gate and HTTP edge.

    ``wall`` dates sessions, ``monotonic`` counts failed sign-ins: a test's clocks. Raises
    SessionFileError (one line) when the data directory cannot keep the sessions.
    """
    token = config.security.token  # the sessions first: an unusable data directory is SessionFileError
    sessions = None if token is None else Sessions(token, config.data_dir, clock=wall)
    client = client or api_client(config)
    app, poll = create_dash_app(config, client)
    sign_in = None if token is None or sessions is None else login.Login(
        token, sessions, FailedLogins(clock=monotonic), secure=config.security.tls)
    gate = Gate(config.security, app.csp_hashes(), sign_in)  # after every callback is registered

    async def shut_down() -> None:
        await client.close()
        if sessions is not None:
            sessions.close()

    return DashboardEdge(app.server, lambda: app.callback_map, gate, on_shutdown=shut_down,
                         direct={signature.OUTPUT_KEY: poll})


def register_callbacks(app: dash.Dash, client: PerformanceClient, tick_config: TickConfig) -> Direct:
    """Wire the tick, the span, the download, the fan-out to the components and the age clock.

    Returns the tick as the edge answers it (:mod:`perfmon.ui.edge.direct`).
    """
    poll = register_tick(app, client, tick_config)
    register_span(app)
    register_download(app, client)
    if tick_config.signs_in:
        register_silencing(app, client)
    app.clientside_callback(
        ClientsideFunction(namespace="perfmon", function_name="zoom"),
        Output(ids.ZOOM, "data"), *(Input(graph, "relayoutData") for graph in GRAPHS),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # the last output tells the next tick whether a view went missing
        ClientsideFunction(namespace="perfmon", function_name="render"),
        [Output(component, prop) for component, prop in (key.rsplit(".", 1) for key in ids.RENDER_KEYS)]
        + [Output(ids.RENDERED, "data")],
        Input(ids.VIEW, "data"), State(ids.RENDER_KEYS_STORE, "data"), State(ids.SETTINGS, "data"),
    )
    app.clientside_callback(  # also on each view, so the age agrees with the badge at once
        ClientsideFunction(namespace="perfmon", function_name="age"),
        Output(ids.DATA_AGE, "children"), Output(ids.DATA_AGE, "className"),
        Input(ids.CLOCK, "n_intervals"), Input(ids.VIEW, "data"), State(ids.SETTINGS, "data"),
    )
    return poll


def register_tick(app: dash.Dash, client: PerformanceClient, tick_config: TickConfig) -> Direct:
    """The poll callback: one tick for one tab; registered with Dash, and answered by the edge."""

    async def on_tick(_ticks: int | None, span: Any, sort: Any, raw: Any, cursor: Any,
                      rendered: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        # Anyone can post anything: what no page sends raises Forged before it costs a request,
        # and the edge (or perfmon.ui.backend) answers a 400 naming the field. Any other exception
        # is a bug, which the edge logs once (perfmon.ui.edge.error_log); the page keeps what it shows.
        tab = inputs.read_cursor(cursor)
        lost = inputs.read_rendered(rendered)  # the browser missed a view
        sort_by, raw_open = inputs.read_sort(sort), inputs.read_raw_open(raw)
        view, tab = await tick(client, tab, tick_config, span=ranges.from_store(span), sort=sort_by,
                               raw_open=raw_open, resync=lost)
        return encode(view), tab.store()

    app.callback(*(Output(*output) for output in signature.OUTPUTS),
                 *(Input(*input_) for input_ in signature.INPUTS),
                 *(State(*state) for state in signature.STATES))(on_tick)
    return Direct(signature.OUTPUTS, on_tick, refused=(inputs.Forged,))


def register_span(app: dash.Dash) -> None:
    """The span the charts show, from the range selector, a zoom or the URL; and the URL from it."""

    @app.callback(
        Output(ids.SPAN, "data"), Output(ids.URL, "search"), Output(ids.RANGE, "value"),
        Output(ids.RANGE_NOTE, "children"),
        Input(ids.URL, "search"), Input(ids.RANGE, "value"), Input(ids.ZOOM, "data"), State(ids.SPAN, "data"),
    )
    def choose_span(search: Any, preset: Any, zoom: Any, current: Any) -> tuple[Any, ...]:
        trigger = ctx.triggered_id
        kind = "range" if trigger == ids.RANGE else "graph" if trigger == ids.ZOOM else "url"
        span = ranges.choose(kind, search, preset, zoom, current)
        if span is None:
            raise PreventUpdate
        search_out = no_update if kind == "url" else span.search()  # the URL already says it
        return span.store(), search_out, span.preset, span.note()


def register_download(app: dash.Dash, client: PerformanceClient) -> None:
    """The CSV of the shown range, fetched from the API by the dashboard's client."""

    @app.callback(
        Output(ids.DOWNLOAD, "data"), Output(ids.DOWNLOAD_NOTE, "children"),
        Input(ids.DOWNLOAD_BUTTON, "n_clicks"), State(ids.SPAN, "data"),
        prevent_initial_call=True,
    )
    async def download(_clicks: int | None, span: Any) -> tuple[Any, str]:
        try:
            return await export.csv_download(client, ranges.from_store(span)), ""
        except ApiUnavailable as exc:
            return no_update, f"could not download: {exc}"
        except (KeyError, TypeError, ValueError):
            log.exception("the API's answer to a download could not be read")
            return no_update, "could not download: the API's answer could not be read"


def register_silencing(app: dash.Dash, client: PerformanceClient) -> None:
    """The alerts panel's Silence and Lift buttons (drawn only for people who signed in)."""
    offered = tuple(seconds for _, seconds in alerts_panel.SILENCE_FOR)

    @app.callback(
        Output(ids.ALERTS_ACTION, "children"),
        Input({"type": alerts_panel.SILENCE, "alert": ALL}, "n_clicks"),
        Input({"type": alerts_panel.LIFT, "silence": ALL}, "n_clicks"),
        State(ids.SILENCE_FOR, "value"), prevent_initial_call=True,
    )
    async def act(_silences: Any, _lifts: Any, seconds: Any) -> str:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(t.get("value") for t in ctx.triggered):
            raise PreventUpdate  # a button drawn again (n_clicks 0), not a click
        if trigger.get("type") == alerts_panel.SILENCE:
            return await silences.silence(client, trigger.get("alert"), seconds, offered)
        return await silences.lift(client, trigger.get("silence"))
