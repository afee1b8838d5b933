"""Every metric group, in the sample's order, and selectors checked against them.

A new group is one module under ``groups/`` and one line here; everything else (the sample's
shape, history, ``/metrics``, OpenAPI, the dashboard) is derived from ``GROUPS``.
"""

from __future__ import annotations

from collections.abc import Mapping

from perfmon.core.metrics.groups import (
    battery,
    cpu,
    disk_io,
    disks,
    fans,
    host,
    memory,
    network,
    pressure,
    processes,
    sample,
    sensors,
    swap,
)
from perfmon.core.metrics.model import Field, Group
from perfmon.core.metrics.selector import Selector, SelectorError

GROUPS: tuple[Group, ...] = (
    sample.GROUP, host.GROUP, cpu.GROUP, memory.GROUP, swap.GROUP, disks.GROUP, disk_io.GROUP,
    network.GROUP, processes.GROUP, sensors.GROUP, pressure.GROUP, fans.GROUP,
    battery.GROUP,
)
BY_NAME: Mapping[str, Group] = {g.name: g for g in GROUPS}


def group(name: str) -> Group:
    """A group by name; SelectorError names the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise SelectorError(f"no metric group {name!r} (known: {', '.join(BY_NAME)})") from None


def kept_fields(selector: Selector) -> tuple[Group, tuple[Field, ...]]:
    """The group a selector names and the fields of it history keeps that it picks.

    SelectorError when the group, a label or the field does not exist, or the field is not kept
    in history (the message names what does).
    """
    found = group(selector.group)
    for matcher in selector.matchers or ():
        if matcher.label not in found.labels:
            known = ", ".join(found.labels) or "none: it has no rows"
            raise SelectorError(f"{found.name} has no label {matcher.label!r} (its labels: {known})")
    allowed = scope(found, selector)
    kept = tuple(f for f in allowed if f.kept)
    if selector.field is None:
        return found, kept
    picked = tuple(f for f in kept if f.series_name == selector.field)
    if not picked:
        names = sorted({f.series_name for f in kept})
        if any(f.series_name == selector.field for f in allowed) or any(
                f.name == selector.field for f in (*found.fields, *found.row_fields)):
            raise SelectorError(f"{found.name}.{selector.field} is not kept in history "
                                f"(kept: {', '.join(names) or 'none'})")
        raise SelectorError(f"{found.name} has no field {selector.field!r} (kept in history: "
                            f"{', '.join(names) or 'none'})")
    return found, picked


def scope(found: Group, selector: Selector) -> tuple[Field, ...]:
    """The fields a selector's brackets allow: the section's, the rows', or both."""
    if selector.matchers is None:
        return (*found.fields, *found.row_fields)
    return found.row_fields if selector.matchers else found.fields
