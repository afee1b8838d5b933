"""The poll callback's signature, and what it looks like on the wire.

``app.py`` registers the callback from these ids; ``request_body`` builds the JSON the
browser's Dash renderer posts for one tick, and ``read_response`` decodes the answer,
so the system test and the benchmarks call the callback exactly as a browser does.
"""

from __future__ import annotations

import json
from typing import Any

from perfmon.ui import ids

URL_PATH = "/_dash-update-component"
OUTPUTS = ((ids.VIEW, "data"), (ids.CURSOR, "data"))
INPUTS = ((ids.TICK, "n_intervals"), (ids.WINDOW, "value"), (ids.PROCESS_SORT, "value"),
          (ids.RAW_OPEN, "value"))
STATES = ((ids.CURSOR, "data"),)


def request_body(n_intervals: int = 1, *, window: Any = 300, sort: Any = "cpu", raw: Any = None,
                 cursor: dict[str, Any] | None = None,
                 changed: str = f"{ids.TICK}.n_intervals") -> dict[str, Any]:
    """The JSON body the Dash renderer posts for one tick of the poll callback."""
    values = (n_intervals, window, sort, [] if raw is None else raw)
    return {
        "output": ".." + "...".join(f"{component}.{prop}" for component, prop in OUTPUTS) + "..",
        "outputs": [{"id": component, "property": prop} for component, prop in OUTPUTS],
        "inputs": [{"id": component, "property": prop, "value": value}
                   for (component, prop), value in zip(INPUTS, values, strict=True)],
        "changedPropIds": [changed],
        "parsedChangedPropsIds": [changed],
        "state": [{"id": component, "property": prop, "value": cursor} for component, prop in STATES],
    }


def read_response(body: bytes | str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A poll's answer as (updates keyed ``component.property``, the raw view, the new cursor)."""
    response = json.loads(body)["response"]
    view = response[ids.VIEW]["data"]
    updates = {ids.RENDER_KEYS[int(index)]: value for index, value in view["o"].items()}
    return updates, view, response[ids.CURSOR]["data"]
