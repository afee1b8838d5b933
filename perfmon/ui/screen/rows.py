"""Which groups the dashboard shows row by row, and how a row is named, ordered and coloured.

A group with labelled rows (filesystems, disks, interfaces, sensors, pressure ...) whose row
fields history keeps gets a card per row and one chart with a trace per row, with no code of
its own: everything here is read from its declaration in ``perfmon.core.metrics``. A group of
plain values (the CPUs of ``cpu.per_cpu_percent``) is left out: the per-core heatmap shows it.

A row is named as its series keys are, without the field (``disks[mountpoint=/]``): that
name keys its card's component ids and its colour, so a row keeps both while rows come and go.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from perfmon.core.metrics import GROUPS, Field, Group, Labels, Row
from perfmon.core.metrics.model import quote

Sample = Mapping[str, Any]
T = TypeVar("T")
# Distinct at a glance, and none of them the threshold amber or red of the cards.
PALETTE = ("#3b82f6", "#10b981", "#8b5cf6", "#f97316", "#0ea5e9", "#ec4899", "#84cc16", "#6366f1",
           "#14b8a6", "#a855f7", "#eab308", "#64748b")
CARD_KINDS = frozenset({"gauge", "rate"})  # counters since boot and facts say little on a card


def of_group(derive: Callable[[Group], T]) -> Callable[[Group], T]:
    """``derive`` made once per group, then looked up: every tick asks for each row, and a group is a
    frozen declaration (keyed by identity: hashing a Group hashes all its fields)."""
    made: dict[int, tuple[Group, T]] = {}

    def lookup(group: Group) -> T:
        kept = made.get(id(group))
        if kept is None or kept[0] is not group:
            kept = made[id(group)] = (group, derive(group))
        return kept[1]

    return functools.wraps(derive)(lookup)


@of_group
def charted(group: Group) -> tuple[Field, ...]:
    """The row fields a group's chart draws: those history keeps, in the unit of the first."""
    kept = [f for f in group.row_fields if f.kept]
    return tuple(f for f in kept if f.unit == kept[0].unit) if kept else ()


def shown(group: Group) -> bool:
    """Whether the dashboard shows the group row by row."""
    return group.keyed and not group.values and bool(charted(group))


ROW_GROUPS: tuple[Group, ...] = tuple(g for g in GROUPS if shown(g))


@of_group
def card_fields(group: Group) -> tuple[Field, ...]:
    """The row fields a card lists: levels and rates (not the labels, counters or facts)."""
    return tuple(f for f in group.row_fields if f.kind in CARD_KINDS and f.unit not in ("text", "bool"))


def row_name(group: Group, labels: Labels) -> str:
    """The row as its series keys name it, without the field: ``disks[mountpoint=/]``."""
    keyed = labels[: len(group.key)]
    return f"{group.name}[{','.join(f'{k}={quote(v)}' for k, v in keyed)}]"


@dataclass(frozen=True)
class Shown:
    """One row as the dashboard shows it: its name, title, detail line, values and colour."""

    name: str
    labels: Labels  # the key labels: the row's identity
    title: str
    detail: str
    values: Mapping[str, Any]
    color: str
    all_labels: Labels = ()  # every label, the key's and the rest (fstype ...): what alert rules match


def title_of(group: Group, labels: Labels) -> tuple[str, str]:
    """The card's title (the key labels' values) and detail (the other labels, ``ext4 on /dev/sda1``)."""
    width = len(group.key)
    title = " ".join(v or "?" for _, v in labels[:width])
    detail = " · ".join(f"{k} {v}" for k, v in labels[width:] if v)
    return title, detail


def rows_shown(group: Group, sample: Sample) -> list[Shown] | None:
    """The group's rows in ``sample``, sorted by name, with stable colours; None when it has none there."""
    rows = group.rows_of(sample)
    if rows is None:
        return None
    by_name: dict[str, Row] = {}
    for row in rows:
        by_name.setdefault(row_name(group, row.labels), row)  # a name twice: the first one
    names = sorted(by_name)
    colors = colors_of(names)
    width = len(group.key)
    return [Shown(name, by_name[name].labels[:width], *title_of(group, by_name[name].labels),
                  values=by_name[name].values, color=colors[name], all_labels=by_name[name].labels)
            for name in names]


def colors_of(names: Sequence[str]) -> dict[str, str]:
    """A colour per row from its name's hash; a row whose colour is taken gets the next free one."""
    taken: dict[str, str] = {}
    for name in sorted(names):
        start = int.from_bytes(hashlib.blake2s(name.encode(), digest_size=2).digest(), "big")
        for step in range(len(PALETTE)):
            color = PALETTE[(start + step) % len(PALETTE)]
            if color not in taken.values() or len(taken) >= len(PALETTE):
                break
        taken[name] = color
    return taken
