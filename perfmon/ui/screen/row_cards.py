"""The card template, made once per row: labels as its title, its fields with their units.

Pure: a group's rows in, plain component dicts (the JSON Dash renders) out. A group's cards
sit in one container, sent whole only when the group's row set changes (a disk appears);
between those, a tick sends only the values of a group whose values changed (``row_values``),
which the browser sets on component ids keyed by the row's name (``{"type": "row-value",
"row": "disks[mountpoint=/]", "field": "percent"}``) with ``dash_clientside.set_props``
(``assets/perfmon.js``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from perfmon.core import units
from perfmon.core.metrics import Field, Group
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.screen.rows import Shown, card_fields, of_group

Component = dict[str, Any]
HTML = "dash_html_components"
UNIT_SUFFIX = re.compile(r"_(bytes_per_s|ops_per_s|bytes|percent|celsius|rpm|seconds|mhz)$")


def element(kind: str, children: Any = None, **props: Any) -> Component:
    """An html component as Dash's JSON has it."""
    return {"type": kind, "namespace": HTML, "props": {**props, "children": children}}


def value_id(row: str, index: int) -> dict[str, str | int]:
    """The id of one value on a row's card: the ``index``-th of the group's ``card_fields``."""
    return {"type": "row-value", "row": row, "i": index}


def card_id(row: str) -> dict[str, str]:
    """The id of a row's card (its class carries the threshold colour)."""
    return {"type": "row-card", "row": row}


def field_label(f: Field) -> str:
    """A field's name on a card, without its unit: ``used_bytes`` reads ``used``."""
    return UNIT_SUFFIX.sub("", f.name).replace("_", " ") or f.name


@of_group
def levelled(group: Group) -> Field | None:
    """The percentage a card's colour follows: the group's first gauge in percent, if any."""
    return next((f for f in card_fields(group) if f.unit == "percent" and f.kind == "gauge"), None)


def level(group: Group, row: Shown, thresholds: Thresholds) -> str:
    """A card's class: ``card ok|warn|crit|na`` by the alert rules that watch the row's values, else by
    the dashboard's levels of its percentage; ``card info`` for a group without either."""
    ruled = thresholds.of_row(group.name, row.all_labels or row.labels, row.values)
    if ruled is not None:
        return f"card row-card {ruled}"
    f = levelled(group)
    return "card row-card info" if f is None else f"card row-card {thresholds.level(row.values.get(f.name))}"


def texts(group: Group, row: Shown) -> list[str]:
    """Each card field of a row as people read it (``12.3 %``, ``1.50 GiB``), in ``card_fields`` order."""
    return [units.show(f.unit, row.values.get(f.name)) for f in card_fields(group)]


def card(group: Group, row: Shown, thresholds: Thresholds) -> Component:
    """One row's card: a swatch of its chart colour, its title and labels, then its fields."""
    lines = [element("Div", [element("Span", field_label(f), className="row-field", title=f.description),
                             element("Span", text, id=value_id(row.name, i), className="row-number")],
                     className="row-line")
             for i, (f, text) in enumerate(zip(card_fields(group), texts(group, row), strict=True))]
    head = element("Div", [element("Span", None, className="swatch", style={"background": row.color}),
                           row.title], className="card-label row-title", title=row.name)
    return element("Div", [head, element("Div", row.detail, className="card-sub"), *lines],
                   id=card_id(row.name), className=level(group, row, thresholds))


def cards(group: Group, rows: list[Shown] | None, reason: str | None,
          thresholds: Thresholds) -> list[Component]:
    """The group's cards, or one line saying why it has none (the API's reason, if it gave one)."""
    if rows:
        return [card(group, row, thresholds) for row in rows]
    why = reason or (f"no {group.title.lower()} on this host" if rows is not None else "not readable")
    return [element("Div", why, className="muted note row-none")]


def row_values(group: Group, rows: list[Shown], thresholds: Thresholds) -> list[list[Any]]:
    """``[row, level, [text, ...]]`` per row: what a tick sets on cards on screen.

    Compact, as a tick carries it: the browser makes the ids (``value_id``, ``card_id``) and
    the card's class (``card row-card LEVEL``; no level for a group whose cards have none).
    """
    levels = levelled(group) is not None
    return [[row.name, level(group, row, thresholds).rsplit(" ", 1)[1] if levels else None, texts(group, row)]
            for row in rows]


def reason_of(sample: Mapping[str, Any], group: Group) -> str | None:
    """The reason the API gave for the group's null fields (its collector is named as the group)."""
    errors = sample.get("errors") or ()
    return next((e.get("message") for e in errors if e.get("collector") == group.name), None)
