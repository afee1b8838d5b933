"""Calling the dashboard's tick callback over HTTP, exactly as the browser's Dash renderer does."""

from __future__ import annotations

import json
from typing import Any

from perfmon.ui.ids import RENDER_KEYS

POLL_URL_PATH = "/_dash-update-component"


def poll_payload(n_intervals: int = 1, *, window: Any = 300, sort: Any = "cpu", raw: Any = None,
                 cursor: dict[str, Any] | None = None, changed: str = "tick.n_intervals") -> dict[str, Any]:
    """The JSON body the Dash renderer posts for one tick of the ``poll`` callback."""
    return {
        "output": "..view.data...cursor.data..",
        "outputs": [{"id": "view", "property": "data"}, {"id": "cursor", "property": "data"}],
        "inputs": [
            {"id": "tick", "property": "n_intervals", "value": n_intervals},
            {"id": "window", "property": "value", "value": window},
            {"id": "process-sort", "property": "value", "value": sort},
            {"id": "raw-open", "property": "value", "value": [] if raw is None else raw},
        ],
        "changedPropIds": [changed],
        "parsedChangedPropsIds": [changed],
        "state": [{"id": "cursor", "property": "data", "value": cursor}],
    }


def decode(body: bytes | str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A poll response as (updates keyed ``component.property``, the raw view, the new cursor)."""
    response = json.loads(body)["response"]
    view = response["view"]["data"]
    updates = {RENDER_KEYS[int(index)]: value for index, value in view["o"].items()}
    return updates, view, response["cursor"]["data"]
