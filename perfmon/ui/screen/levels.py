"""When a card, a disk's bar or a row's card turns amber or red: at the levels of the rules watching it.

One source for colours and alerts: the API's rules (``/api/alerts/rules``, the rules file's and
the built-in ones). A value turns ``warn`` past the level of a warning rule that selects it and
``crit`` past a critical one's, as the rule compares it (above or below, per CPU with
``divide_by``); how long it has held (``for``) is the alert's business, not the colour's. A value
no rule watches (or every value, with an API that has no alerts) keeps the dashboard's
``--warning-percent`` and ``--critical-percent``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.core.metrics import Selector
from perfmon.core.metrics.selector import SelectorError
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.screen.rows import ROW_GROUPS, charted

LEVELS = {"critical": "crit", "warning": "warn", "info": "ok"}
RANK = {"ok": 0, "warn": 1, "crit": 2}
Labels = Iterable[tuple[str, str | None]]


@dataclass(frozen=True, slots=True)
class Watch:
    """One rule as a colour sees it: what it selects, its trigger and the colour past it."""

    name: str
    select: Selector
    above: bool
    threshold: float
    level: str
    divide_by: Selector | None = None

    def picks(self, group: str, field: str, labels: Mapping[str, str | None] | None) -> bool:
        """Whether the rule selects this value: a section's (``labels`` None) or a row's."""
        select = self.select
        if select.group != group or select.field != field:
            return False
        if labels is None or select.matchers is None:
            return True
        return all(m.matches(labels.get(m.label)) for m in select.matchers)

    def past(self, value: float, sample: Mapping[str, Any]) -> bool:
        """Whether ``value`` is past the trigger, divided first as the rule divides it."""
        if self.divide_by is not None:
            divisor = (sample.get(self.divide_by.group) or {}).get(self.divide_by.field or "")
            if not isinstance(divisor, (int, float)) or not divisor:
                return False
            value = value / divisor
        return value > self.threshold if self.above else value < self.threshold


@dataclass(frozen=True)
class Levels(Thresholds):
    """The dashboard's own levels (for what no rule watches), and the rules' watches."""

    watches: tuple[Watch, ...] = ()

    def of(self, group: str, field: str, labels: Labels | None, value: float | None,
           sample: Mapping[str, Any]) -> str | None:
        """``ok``, ``warn``, ``crit`` (``na`` for no value) by the rules that pick this value; None when
        no rule does (the caller then uses :meth:`level`)."""
        row = None if labels is None else dict(labels)
        picking = [w for w in self.watches if w.picks(group, field, row)]
        if not picking:
            return None
        if value is None:
            return "na"
        worst = "ok"
        for watch in picking:
            if RANK[watch.level] > RANK[worst] and watch.past(value, sample):
                worst = watch.level
        return worst

    def of_row(self, group: str, labels: Labels, values: Mapping[str, Any]) -> str | None:
        """The worst level the rules give any of a row's values; None when no rule picks the row."""
        found = [self.of(group, field, labels, values.get(field), {}) for field in
                 {w.select.field for w in self.watches if w.select.group == group and w.select.field}]
        ruled = [level for level in found if level is not None]
        if not ruled:
            return None
        return max(ruled, key=lambda level: RANK.get(level, -1))

    def lines(self, group: str, fields: Iterable[str]) -> list[Watch]:
        """The rules that draw a level on a chart of these fields of ``group``."""
        wanted = set(fields)
        return [w for w in self.watches if w.select.group == group and w.select.field in wanted]


# the last rules (a tuple per API instance, the source's), their watches and the row groups they watch
_read: list[Any] = [None, (), frozenset()]


def _reading(rules: tuple[Mapping[str, Any], ...] | None) -> list[Any]:
    """The rules read once per tuple of rules, however many tabs' ticks ask."""
    if _read[0] is not rules:
        found = tuple(watches(rules or ()))
        _read[:] = [rules, found, _watched(found)]
    return _read


def watches_of(rules: tuple[Mapping[str, Any], ...] | None) -> tuple[Watch, ...]:
    """The watches of these rules (as ``/api/alerts/rules`` lists them)."""
    return _reading(rules)[1]  # type: ignore[no-any-return]


def levels_of(thresholds: Thresholds, rules: tuple[Mapping[str, Any], ...] | None) -> Levels:
    """The levels of these rules over the dashboard's own."""
    return Levels(thresholds.warning_percent, thresholds.critical_percent, watches_of(rules))


def watched_groups(rules: tuple[Mapping[str, Any], ...] | None) -> frozenset[str]:
    """The row groups whose chart a rule watches (a field it charts), in percent or °C: those get the band
    of firing periods."""
    return _reading(rules)[2]  # type: ignore[no-any-return]


def _watched(found: tuple[Watch, ...]) -> frozenset[str]:
    groups = set()
    for group in ROW_GROUPS:
        fields = charted(group)
        names = {f.series_name for f in fields}
        if fields and fields[0].unit != "bytes_per_s" and any(
                w.select.group == group.name and w.select.field in names for w in found):
            groups.add(group.name)
    return frozenset(groups)


def watches(rules: Iterable[Mapping[str, Any]]) -> list[Watch]:
    """A watch per rule the dashboard can read; one it cannot (a newer API's selector) is left out."""
    found = []
    for rule in rules:
        try:
            select = Selector.parse(rule["selector"])
            divide = None if rule.get("divide_by") is None else Selector.parse(rule["divide_by"])
            found.append(Watch(rule["name"], Selector(select.group, select.matchers, rule["field"]),
                               rule["operator"] == ">", float(rule["threshold"]),
                               LEVELS.get(rule["severity"], "ok"), divide))
        except (SelectorError, KeyError, TypeError, ValueError):
            continue
    return found
