"""The Dash dashboard: the app factory and its callbacks.

A tick is one small server callback (``poll``) that returns the tab's new cursor and a
sparse list of screen updates; a clientside callback fans those out to the components,
and another ages the "updated N s ago" line every second, both without a request.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dash
from dash import ClientsideFunction, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from perfmon.settings import DashboardConfig
from perfmon.ui import figures, ids, layout, poll
from perfmon.ui.client import PerformanceClient
from perfmon.ui.tick import Settings, View, tick

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("assets")
PROCESS_SORTS = ("cpu", "memory")
KEY_INDEX = {key: str(index) for index, key in enumerate(ids.RENDER_KEYS)}


def encode(view: View) -> dict[str, Any]:
    """The view as the browser's render function reads it: updates keyed by output index."""
    encoded: dict[str, Any] = {"o": {KEY_INDEX[key]: value for key, value in view.updates.items()}}
    if view.x:
        encoded["x"] = view.x
    if view.age_seconds is not None:
        encoded["age"] = view.age_seconds
    return encoded


def create_dash_app(config: DashboardConfig, client: PerformanceClient | None = None) -> dash.Dash:
    """Build the Dash app for one API; nothing is fetched until a page polls."""
    settings = Settings(config.poll_interval_seconds, config.warning_percent, config.critical_percent)
    client = client or PerformanceClient(config.api_url)
    app = dash.Dash(__name__, title="perfmon", update_title="", assets_folder=str(ASSETS),
                    meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}])
    app.layout = layout.page(settings, config.api_url)
    register_callbacks(app, client, settings)
    return app


def register_callbacks(app: dash.Dash, client: PerformanceClient, settings: Settings) -> None:
    """Wire the tick, the fan-out to the components and the age clock."""

    @app.callback(
        *(Output(*output) for output in poll.OUTPUTS), *(Input(*input_) for input_ in poll.INPUTS),
        *(State(*state) for state in poll.STATES),
    )
    def on_tick(_ticks: int | None, window: Any, sort: Any, raw: Any,
             cursor: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
        window_seconds = window if window in figures.WINDOWS_SECONDS else figures.DEFAULT_WINDOW_SECONDS
        raw_open = isinstance(raw, list) and "open" in raw
        try:
            view, cursor = tick(client, cursor, settings, window_seconds=window_seconds,
                                sort=sort if sort in PROCESS_SORTS else "cpu", raw_open=raw_open,
                                raw_toggled=ctx.triggered_id == ids.RAW_OPEN)
        except Exception:  # a bug, not the API (tick reports those): log it, keep the page as it is
            log.exception("a dashboard tick failed")
            raise PreventUpdate from None
        return encode(view), cursor

    app.clientside_callback(
        ClientsideFunction(namespace="perfmon", function_name="render"),
        [Output(component, prop) for component, prop in (key.rsplit(".", 1) for key in ids.RENDER_KEYS)],
        Input(ids.VIEW, "data"), State(ids.RENDER_KEYS_STORE, "data"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="perfmon", function_name="age"),
        Output(ids.DATA_AGE, "children"), Output(ids.DATA_AGE, "className"),
        Input(ids.CLOCK, "n_intervals"), State(ids.SETTINGS, "data"),
    )
