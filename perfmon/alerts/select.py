"""A rule's instances in a sample: one per row its selector picks (or the section's one value).

An instance is named by the rule and the row's key labels (``mountpoint=/``); it carries every
label of its row (``device``, ``fstype`` too), for messages, routing and silences. A value that
cannot be read is None: the engine holds the instance's state rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.alerts.model import Rule
from perfmon.core.metrics import Labels, Selector, group


@dataclass(frozen=True, slots=True)
class Observed:
    """One instance of a rule in one sample: its key labels, all its labels and its value."""

    key: Labels
    labels: Labels
    value: float | None


def observe(rule: Rule, sample: Mapping[str, Any]) -> list[Observed] | None:
    """Every instance of ``rule`` in ``sample``; None when its group could not be read at all (its
    section or its list of rows null: a collector off, failing or timed out), so that nothing is
    taken for gone. An empty list of rows is read: none are there."""
    divisor = 1.0 if rule.divide_by is None else section_value(rule.divide_by, sample)
    field = rule.field
    if rule.rows:
        rows = rule.group.rows_of(sample)
        if rows is None:
            return None
        width = len(rule.group.key)
        matchers = rule.select.matchers or ()
        return [Observed(row.labels[:width], row.labels, per(number(row.values.get(field.name)), divisor))
                for row in rows if all(m.matches(dict(row.labels).get(m.label)) for m in matchers)]
    section = rule.group.section(sample)
    if not isinstance(section, Mapping):
        return None
    value = section.get(field.name)
    if field.history_index is not None:
        value = value[field.history_index] if isinstance(value, list) and len(value) > field.history_index \
            else None
    return [Observed((), (), per(number(value), divisor))]


def section_value(selector: Selector, sample: Mapping[str, Any]) -> float | None:
    """The one section value ``selector`` names (``cpu.count_logical``), or None."""
    section = group(selector.group).section(sample)
    return number(section.get(selector.field)) if isinstance(section, Mapping) else None


def number(value: Any) -> float | None:
    """A finite number, or None for anything else (null, text, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def per(value: float | None, divisor: float | None) -> float | None:
    """``value / divisor``; None when either is unknown or the divisor is 0."""
    if value is None or divisor is None or divisor == 0:
        return None
    return value / divisor
