"""What a post to ``/_dash-update-component`` may hold, checked before Dash reads it.

Anyone can post anything there, and Dash trusts the body's shape: ``"inputs": [1]`` or
``"changedPropIds": [1]`` raised inside Dash (a bare 500, or a tick's traceback), and 1 KB of
``[`` raised RecursionError in :func:`json.loads` (a 500 and a 1.5 KB traceback per post: 200
posts wrote 300 KB of log in 0.3 s). So a callback body is read here first, with bounds that
hold before the parser runs (its size, its nesting, measured without recursing), then checked
against the callback it names, as Dash's renderer (4.x) builds it::

    {"output": "..view.data...cursor.data..",          # a key of the app's callback map
     "outputs": [{"id": "view", "property": "data"}, ...],  # a list, or one object for one output
     "inputs": [{"id": "tick", "property": "n_intervals", "value": 3}, ...],
     "state": [...],                                     # absent when the callback has none
     "changedPropIds": ["tick.n_intervals"], "parsedChangedPropsIds": [...]}

Each element names the callback's own id and property, in its order (a pattern-matching
id is an object with the pattern's keys; ALL and ALLSMALLER send a list of them). Values
are the callbacks' business (:mod:`perfmon.ui.tick.inputs` reads the poll's); keys Dash does not
read are ignored, so a newer renderer still works. What fails is :class:`BadPayload`, whose
``str()`` names the part and the problem and never echoes the value.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

from dash._utils import split_callback_id

from perfmon.ui.edge.plumbing import Send, send_json

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024  # the page's largest post (a poll with a full cursor) is under 8 KB
MAX_DEPTH = 32  # the page's deepest post nests 5 levels (body, inputs, input, span, back)
STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)  # possessive: linear on an unclosed string
NOT_BRACKET = re.compile(r"[^\[\]{}]+")
WILDCARDS = (["MATCH"], ["ALL"], ["ALLSMALLER"])  # how Dash writes them in a pattern id
MANY = (["ALL"], ["ALLSMALLER"])  # these match a list of components


class BadPayload(ValueError):
    """A callback body no page of this dashboard sends; ``str()`` says what is wrong with it."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def refuse(send: Send, status: int, message: str) -> None:
    """Answer a callback post no page sends: a JSON error naming the problem, one DEBUG line."""
    log.debug("refused a callback post no page sends: %s", message)
    await send_json(send, status, message)


def nesting(text: str) -> int:
    """How deep ``text``'s arrays and objects nest, counted without a parser (so without recursion)."""
    brackets = NOT_BRACKET.sub("", STRING.sub("", text))
    return max(accumulate(1 if bracket in "[{" else -1 for bracket in brackets), default=0)


def reject_constant(name: str) -> float:
    """NaN and Infinity are no JSON a browser writes (JSON.stringify says null)."""
    raise ValueError(name)


def finite(text: str) -> float:
    """A JSON number as a float; 1e999 is not one (it would be infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, within the bounds; else BadPayload."""
    if len(body) > MAX_BYTES:
        raise BadPayload(f"callback body over {MAX_BYTES} bytes", 413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("the body is not UTF-8") from None
    if nesting(text) > MAX_DEPTH:
        raise BadPayload(f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        payload = json.loads(text, parse_constant=reject_constant, parse_float=finite)
    except ValueError:  # JSONDecodeError, a 5,000-digit integer, NaN
        raise BadPayload("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise BadPayload("the body is not a JSON object")
    return payload


def pattern(component_id: str) -> dict[str, Any] | None:
    """A pattern-matching id as its object (Dash keys the map by its JSON), or None for a plain id."""
    return json.loads(component_id) if component_id.startswith("{") else None


def check_id(where: str, sent: object, registered: str) -> None:
    """The element names the registered component: the same id, or an id the pattern matches."""
    wanted = pattern(registered)
    if wanted is None:
        if sent != registered:
            raise BadPayload(f"{where}.id: not this callback's")
        return
    if not isinstance(sent, dict) or sent.keys() != wanted.keys():
        raise BadPayload(f"{where}.id: not of this callback's pattern")
    for key, value in wanted.items():
        if value in WILDCARDS:
            if not isinstance(sent[key], str | int | float) or isinstance(sent[key], bool):
                raise BadPayload(f"{where}.id.{key}: not a string or number")
        elif sent[key] != value:
            raise BadPayload(f"{where}.id.{key}: not this callback's")


def check_element(where: str, sent: object, registered: Mapping[str, str]) -> None:
    """One input, state or output: the registered id and property (a list of them for ALL)."""
    wanted = pattern(registered["id"])
    if wanted is not None and any(value in MANY for value in wanted.values()):
        if not isinstance(sent, list):
            raise BadPayload(f"{where}: not a list")
        for index, item in enumerate(sent):
            check_one(f"{where}[{index}]", item, registered)
    else:
        check_one(where, sent, registered)


def check_one(where: str, sent: object, registered: Mapping[str, str]) -> None:
    """One component's element: an object with the registered id (or one it matches) and property."""
    if not isinstance(sent, dict):
        raise BadPayload(f"{where}: not an object")
    check_id(where, sent.get("id"), registered["id"])
    if sent.get("property") != registered["property"]:
        raise BadPayload(f"{where}.property: not this callback's")


def check_list(name: str, sent: object, registered: list[Mapping[str, str]]) -> None:
    """The callback's inputs or state, one element each, in order."""
    if not isinstance(sent, list):
        raise BadPayload(f"{name}: not a list")
    if len(sent) != len(registered):
        raise BadPayload(f"{name}: {len(sent)} given, the callback has {len(registered)}")
    for index, (item, dependency) in enumerate(zip(sent, registered, strict=True)):
        check_element(f"{name}[{index}]", item, dependency)


def check_outputs(sent: object, output: str) -> None:
    """The outputs the key names: a list for several (the key starts with ".."), else one object."""
    registered = split_callback_id(output)
    if isinstance(registered, list):
        check_list("outputs", sent, registered)
    else:
        check_element("outputs", sent, registered)


def check_changed(payload: Mapping[str, Any], inputs: list[Mapping[str, str]]) -> None:
    """What triggered the callback: ids of its inputs ("tick.n_intervals"), as strings."""
    plain = {f"{dependency['id']}.{dependency['property']}" for dependency in inputs}
    patterned = {dependency["property"] for dependency in inputs if dependency["id"].startswith("{")}
    changed = payload.get("changedPropIds", [])
    if not isinstance(changed, list):
        raise BadPayload("changedPropIds: not a list")
    for index, prop_id in enumerate(changed):
        if not isinstance(prop_id, str):
            raise BadPayload(f"changedPropIds[{index}]: not a string")
        if prop_id not in plain and not (prop_id.startswith("{") and prop_id.rpartition(".")[2] in patterned):
            raise BadPayload(f"changedPropIds[{index}]: not an input of this callback")
    parsed = payload.get("parsedChangedPropsIds", [])  # Dash does not read it: its type only
    if not isinstance(parsed, list) or not all(isinstance(item, str | dict) for item in parsed):
        raise BadPayload("parsedChangedPropsIds: not a list of ids")


def check(payload: Mapping[str, Any], callbacks: Mapping[str, Any]) -> None:
    """Raise BadPayload unless the payload is a call of one of the app's server callbacks."""
    output = payload.get("output")
    if not isinstance(output, str) or output not in callbacks:
        raise BadPayload("output: not a callback of this page")
    spec = callbacks[output]
    if not callable(spec.get("callback")):
        raise BadPayload("output: a callback the browser runs itself")
    check_list("inputs", payload.get("inputs"), spec["inputs"])
    if spec["state"] or "state" in payload:
        check_list("state", payload.get("state"), spec["state"])
    check_outputs(payload.get("outputs"), output)
    check_changed(payload, spec["inputs"])


def checked(body: bytes, callbacks: Mapping[str, Any]) -> dict[str, Any]:
    """The post as a call of one of the app's server callbacks; else BadPayload."""
    payload = parse(body)
    check(payload, callbacks)
    return payload


def problem(body: bytes, callbacks: Mapping[str, Any]) -> BadPayload | None:
    """Why a callback post cannot be one of this page's callbacks, or None when it can."""
    try:
        checked(body, callbacks)
    except BadPayload as exc:
        return exc
    return None
