"""The poll callback's signature, and what it looks like on the wire.

``app.py`` registers the callback from these ids; ``request_body`` builds the JSON the
browser's Dash renderer posts for one tick, and ``read_response`` decodes the answer,
so the system test and the benchmarks call the callback exactly as a browser does.

Inputs: the timer, the span the charts show (the span store), the process sort and the
raw panel's toggle. States: the tab's cursor, and what the browser made of the last view
(``{"n": N}``, or ``{"lost": true}`` when it missed one: then the tick sends everything).
"""

from __future__ import annotations

import json
from typing import Any

from perfmon.ui.screen import ids

URL_PATH = "/_dash-update-component"
OUTPUTS = ((ids.VIEW, "data"), (ids.CURSOR, "data"))
INPUTS = ((ids.TICK, "n_intervals"), (ids.SPAN, "data"), (ids.PROCESS_SORT, "value"),
          (ids.RAW_OPEN, "value"))
STATES = ((ids.CURSOR, "data"), (ids.RENDERED, "data"))
OUTPUT_KEY = ".." + "...".join(f"{component}.{prop}" for component, prop in OUTPUTS) + ".."  # Dash's key


def request_body(n_intervals: int = 1, *, span: Any = None, sort: Any = "cpu", raw: Any = None,
                 cursor: dict[str, Any] | None = None, rendered: Any = "all",
                 changed: str = f"{ids.TICK}.n_intervals") -> dict[str, Any]:
    """The JSON body the Dash renderer posts for one tick of the poll callback.

    ``span`` is what the page's span store holds: ``{"range": "1h"}`` (the default is 5
    minutes) or ``{"start": T1, "end": T2}`` for a zoom. ``rendered`` is what the browser
    says of the views it got; by default, as a browser that rendered every one.
    """
    values = (n_intervals, {"range": "5m"} if span is None else span, sort, [] if raw is None else raw)
    if rendered == "all":
        rendered = {"n": cursor["n"]} if cursor and "n" in cursor else None
    return {
        "output": OUTPUT_KEY,
        "outputs": [{"id": component, "property": prop} for component, prop in OUTPUTS],
        "inputs": [{"id": component, "property": prop, "value": value}
                   for (component, prop), value in zip(INPUTS, values, strict=True)],
        "changedPropIds": [changed],
        "parsedChangedPropsIds": [changed],
        "state": [{"id": component, "property": prop, "value": value}
                  for (component, prop), value in zip(STATES, (cursor, rendered), strict=True)],
    }


def read_response(body: bytes | str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A poll's answer as (updates keyed ``component.property``, the raw view, the new cursor)."""
    response = json.loads(body)["response"]
    view = response[ids.VIEW]["data"]
    updates = {ids.RENDER_KEYS[int(index)]: value for index, value in view["o"].items()}
    return updates, view, response[ids.CURSOR]["data"]
