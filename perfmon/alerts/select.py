"""A rule's instances in a sample: one per row its selector picks (or the section's one value).

An instance is named by the rule and the row's key labels (``mountpoint=/``); it carries every
label of its row (``device``, ``fstype`` too), for messages, routing and silences. A value that
cannot be read is None: the engine holds the instance's state rather than guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from perfmon.alerts.model import Rule
from perfmon.core.metrics import INDEX, Group, Labels, Selector, group


class Observed:
    """One instance of a rule in one sample: its key labels, its value, and (made only when asked:
    most rows trigger nothing) all its labels."""

    __slots__ = ("_index", "_labels", "_row", "group", "key", "value")

    def __init__(self, key: Labels, value: float | None, group: Group | None = None,
                 row: Mapping[str, Any] | None = None, index: int = 0, labels: Labels = ()) -> None:
        self.key, self.value, self.group = key, value, group
        self._row, self._index, self._labels = row, index, labels

    @property
    def labels(self) -> Labels:
        """Every label of the row (key and descriptive ones)."""
        if self.group is not None and self._row is not None:
            self._labels = self.group.row_labels(self._row, self._index)
            self._row = None
        return self._labels


def observe(rule: Rule, sample: Mapping[str, Any]) -> list[Observed] | None:
    """Every instance of ``rule`` in ``sample``; None when its group could not be read at all (its
    section or its list of rows null: a collector off, failing or timed out), so that nothing is
    taken for gone. An empty list of rows is read: none are there."""
    divisor = 1.0 if rule.divide_by is None else section_value(rule.divide_by, sample)
    field = rule.field
    if rule.rows:
        return _rows(rule, sample, divisor)
    section = rule.group.section(sample)
    if not isinstance(section, Mapping):
        return None
    value = section.get(field.name)
    if field.history_index is not None:
        value = value[field.history_index] if isinstance(value, list) and len(value) > field.history_index \
            else None
    return [Observed((), per(number(value), divisor))]


def _rows(rule: Rule, sample: Mapping[str, Any], divisor: float | None) -> list[Observed] | None:
    """The rows' instances, read straight from the sample's row maps: no labels made but the key's and
    those the matchers look at (a rule over a thousand mounts reads a thousand rows each sample)."""
    found = rule.group
    if found.values:  # a list of plain numbers (per CPU): few, read through the group
        rows = found.rows_of(sample)
        if rows is None:
            return None
        width, matchers = len(found.key), rule.select.matchers or ()
        return [Observed(row.labels[:width], per(number(row.values.get(rule.field.name)), divisor),
                         labels=row.labels) for row in rows
                if all(m.matches(dict(row.labels).get(m.label)) for m in matchers)]
    listed = found.row_list(sample)
    if listed is None:
        return None
    keys = tuple((label, found.labels[label]) for label in found.key)
    checks = tuple((m, found.labels[m.label]) for m in rule.select.matchers or ())
    name, out = rule.field.name, []
    for i, row in enumerate(listed):
        if not isinstance(row, Mapping) or not all(m.matches(label_text(row, source, i))
                                                   for m, source in checks):
            continue
        key = tuple((label, label_text(row, source, i)) for label, source in keys)
        out.append(Observed(key, per(number(row.get(name)), divisor), found, row, i))
    return out


def label_text(row: Mapping[str, Any], source: str, index: int) -> str:
    """A label's value in a row: the row's place for INDEX, else the key's value as text."""
    if source == INDEX:
        return str(index)
    value = row.get(source)
    return "" if value is None else str(value)


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
