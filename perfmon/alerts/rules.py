"""The rules file (``--alerts-file``, YAML): read, checked line by line, merged with the built-in rules.

Every error names the file and the line: an unknown key, a selector that names no group, label
or field, a threshold in a unit that does not fit the field, a channel no rule can reach. The
shape (a contract, README "Alerts")::

    rules:
      - name: FilesystemAlmostFull
        select: disks[fstype!=tmpfs].percent
        above: 90          # or below:
        clear: 85          # hysteresis: resolves under this
        for: 10m
        severity: warning
        repeat: 4h         # notify again while it lasts
        notify: [ops]      # channels by name; default: all
    channels:
      ops: {type: webhook, url: "https://hooks.example/perfmon", secret_file: /etc/perfmon/hook.secret}
    silences: [{match: {host: db1}, from: "2026-12-24T00:00Z", until: "2026-12-26T00:00Z"}]

A file's rule replaces the built-in rule of the same name, ``enabled: false`` turns one off, and
``builtin_rules: false`` at the top leaves all of them out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path

from perfmon.alerts.channels import read_channels
from perfmon.alerts.defaults import BUILTIN
from perfmon.alerts.heartbeat import heartbeat
from perfmon.alerts.model import SEVERITIES, AlertsFile, Prediction, Rule, Severity
from perfmon.alerts.readers import mapping, quantity, seconds, text
from perfmon.alerts.silences import read_silences
from perfmon.alerts.yamlfile import FileError, Located, load
from perfmon.core.metrics import Field, Group, Selector, SelectorError, group
from perfmon.core.metrics.registry import scope

TOP = ("rules", "channels", "silences", "builtin_rules", "heartbeat")
RULE = ("name", "select", "above", "below", "clear", "for", "severity", "repeat", "notify", "summary",
        "labels", "divide_by", "predict", "enabled")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMERIC_UNITS = frozenset({"percent", "bytes", "bytes_per_s", "ops_per_s", "seconds", "mhz", "celsius",
                           "rpm", "load", "count"})


def read_file(path: str | Path) -> AlertsFile:
    """The rules of the file at ``path`` with the built-in ones; FileError says what is wrong, and where."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FileError(source, None, "not UTF-8 text: is this a rules file?") from None
    except OSError as exc:
        raise FileError(source, None, f"cannot be read: {exc.strerror or exc}") from None
    return parse(text, source)


def parse(text: str, source: str = "<rules>") -> AlertsFile:
    """The rules in ``text`` with the built-in ones (an empty document: the built-in ones alone)."""
    doc = load(text, source)
    if doc is None:
        return AlertsFile(builtin_rules(), source=source)
    top = mapping(doc, source, "the rules file", TOP)
    channels = read_channels(top.get("channels"), source)
    silences = read_silences(top.get("silences"), source)
    keep = top.get("builtin_rules")
    if keep is not None and not isinstance(keep.value, bool):
        raise keep.at(source, f"builtin_rules must be true or false, not {keep.value!r}")
    rules = read_rules(top.get("rules"), source, set(channels))
    named = {r.name: r for r in (builtin_rules() if keep is None or keep.value else ())}
    for rule, enabled in rules:
        named.pop(rule.name, None)
        if enabled:
            named[rule.name] = rule
    return AlertsFile(tuple(named.values()), channels, silences, source,
                      heartbeat(top.get("heartbeat"), source), watch_sampler=keep is None or bool(keep.value))


@cache
def builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules (:mod:`perfmon.alerts.defaults`), read as a file's are; they have no line."""
    doc = load(BUILTIN, "(built-in rules)")
    assert doc is not None
    node = mapping(doc, "(built-in rules)", "the built-in rules", ("rules",))["rules"]
    return tuple(replace(rule, line=None) for rule, _ in read_rules(node, "(built-in rules)", set()))


def read_rules(node: Located | None, source: str, channels: set[str]) -> list[tuple[Rule, bool]]:
    """Each rule of the ``rules:`` list, and whether it is enabled; a name may appear once."""
    if node is None:
        return []
    if not isinstance(node.value, list):
        raise node.at(source, "rules must be a list of rules (each starting with '- name:')")
    rules: list[tuple[Rule, bool]] = []
    seen: dict[str, int] = {}
    for item in node.value:
        rule, enabled = read_rule(item, source, channels)
        if rule.name in seen:
            raise item.at(source, f"rule {rule.name!r} is given twice (first on line {seen[rule.name]})")
        seen[rule.name] = item.line
        rules.append((rule, enabled))
    return rules


def read_rule(node: Located, source: str, channels: set[str]) -> tuple[Rule, bool]:
    """One rule, checked against the metric groups and the channels."""
    keys = mapping(node, source, "a rule", RULE)
    name = text(keys, "name", source, node, required=True)
    if not NAME.fullmatch(name):
        raise keys["name"].at(source, f"a rule's name is letters, digits and _ (like FilesystemAlmostFull), "
                                      f"not {name!r}")
    what = f"rule {name}"
    selector, found, picked = selected(keys, "select", source, node, what)
    above, below = (keys.get("above"), keys.get("below"))
    if (above is None) == (below is None):
        raise node.at(source, f"{what}: give one of above or below")
    trigger = above or below
    assert trigger is not None
    level = quantity(trigger, picked.unit, source, f"{what}: {'above' if above else 'below'}")
    clear = level if "clear" not in keys else quantity(keys["clear"], picked.unit, source, f"{what}: clear")
    if (above is not None and clear > level) or (below is not None and clear < level):
        raise keys["clear"].at(source, f"{what}: clear must be {'at or under' if above else 'at or over'} "
                                       f"the trigger ({level:g}), or it would resolve while still past it")
    enabled = keys.get("enabled")
    if enabled is not None and not isinstance(enabled.value, bool):
        raise enabled.at(source, f"{what}: enabled must be true or false")
    rule = Rule(
        name=name, select=selector, group=found, field=picked, rows=picked in found.row_fields,
        above=level if above else None,
        below=level if below else None, clear=clear, for_seconds=seconds(keys, "for", source, what) or 0.0,
        severity=severity(keys, source, what), repeat_seconds=seconds(keys, "repeat", source, what),
        notify=notify(keys, source, what, channels), summary=text(keys, "summary", source, node) or "",
        labels=labels(keys, source, what), divide_by=divisor(keys, source, what),
        predict=prediction(keys, source, what, picked, above is not None), line=node.line)
    return rule, enabled is None or bool(enabled.value)


def selected(keys: Mapping[str, Located], key: str, source: str, node: Located,
             what: str) -> tuple[Selector, Group, Field]:
    """The selector at ``key``, and the group and numeric field it names (one field: a rule needs it)."""
    written = text(keys, key, source, node, required=True)
    where = keys[key]
    try:
        selector = Selector.parse(written)
        found = group(selector.group)
        for matcher in selector.matchers or ():
            if matcher.label not in found.labels:
                known = ", ".join(found.labels) or "none: it has no rows"
                raise SelectorError(f"{found.name} has no label {matcher.label!r} (its labels: {known})")
    except SelectorError as exc:
        raise where.at(source, f"{what}: {key}: {exc}") from None
    if selector.field is None:
        raise where.at(source, f"{what}: {key}: name a field, as in {written}.percent")
    picked = field_of(found, selector)
    if picked is None or picked.unit not in NUMERIC_UNITS:
        numeric = sorted({f.series_name for f in scope(found, selector) if f.unit in NUMERIC_UNITS
                          and (f.shape == "scalar" or f.history_index is not None)})
        rows = " in its rows" if selector.matchers else ""
        raise where.at(source, f"{what}: {key}: {found.name} has no numeric field {selector.field!r}{rows} "
                               f"(it has: {', '.join(numeric)})")
    return selector, found, picked


def field_of(found: Group, selector: Selector) -> Field | None:
    """The one scalar field (or element of a list, as load_1) that ``selector`` names: without
    brackets the section's first (``cpu.percent``), else a row's (``disks.percent``)."""
    for f in scope(found, selector):
        if (f.series_name == selector.field and (f.shape == "scalar" or f.history_index is not None)) or (
                f.name == selector.field and f.shape == "scalar"):
            return f
    return None


def severity(keys: Mapping[str, Located], source: str, what: str) -> Severity:
    """info, warning (the default) or critical."""
    found = keys.get("severity")
    if found is None:
        return "warning"
    if found.value not in SEVERITIES:
        raise found.at(source, f"{what}: severity must be one of {', '.join(SEVERITIES)}, "
                               f"not {found.value!r}")
    return found.value  # type: ignore[no-any-return]


def notify(keys: Mapping[str, Located], source: str, what: str, channels: set[str]) -> tuple[str, ...] | None:
    """Channel names (each one defined), or None for all of them."""
    found = keys.get("notify")
    if found is None:
        return None
    items = found.value if isinstance(found.value, list) else [found]
    names = []
    for item in items:
        if not isinstance(item.value, str):
            raise item.at(source, f"{what}: notify lists channel names, not {item.value!r}")
        if item.value not in channels:
            known = ", ".join(sorted(channels)) or "none are defined"
            raise item.at(source, f"{what}: no channel {item.value!r} (channels: {known})")
        names.append(item.value)
    return tuple(names)


def labels(keys: Mapping[str, Located], source: str, what: str) -> dict[str, str]:
    """Extra labels the rule's alerts carry (for routing and silences)."""
    found = keys.get("labels")
    if found is None:
        return {}
    if not isinstance(found.value, dict):
        raise found.at(source, f"{what}: labels must be a mapping of names to text")
    out = {}
    for name, value in found.value.items():
        if not NAME.fullmatch(name) or not isinstance(value.value, (str, int, float)) or isinstance(
                value.value, bool):
            raise value.at(source, f"{what}: label {name!r} must be a name with a text value")
        out[name] = str(value.value)
    return out


def divisor(keys: Mapping[str, Located], source: str, what: str) -> Selector | None:
    """A section value (``cpu.count_logical``) the selected value is divided by."""
    found = keys.get("divide_by")
    if found is None:
        return None
    if not isinstance(found.value, str):
        raise found.at(source, f"{what}: divide_by must be a selector such as cpu.count_logical")
    try:
        selector = Selector.parse(found.value)
        owner = group(selector.group)
    except SelectorError as exc:
        raise found.at(source, f"{what}: divide_by: {exc}") from None
    if selector.matchers or selector.field is None or not any(
            f.name == selector.field and f.unit in NUMERIC_UNITS for f in owner.fields):
        raise found.at(source, f"{what}: divide_by must name one numeric field of a section, such as "
                               f"cpu.count_logical")
    return selector


def prediction(keys: Mapping[str, Located], source: str, what: str, picked: Field,
               rising: bool) -> Prediction | None:
    """``predict: {window: 6h, ahead: 24h, reaches: 100}``: the trend must reach it within ``ahead``."""
    found = keys.get("predict")
    if found is None:
        return None
    parts = mapping(found, source, f"{what}: predict", ("window", "ahead", "reaches"))
    read: Callable[[str, float], float] = lambda key, default: (  # noqa: E731
        default if key not in parts else seconds(parts, key, source, f"{what}: predict") or default)
    default_reach = (100.0 if rising else 0.0) if picked.unit == "percent" else None
    reach = parts.get("reaches")
    if reach is None and default_reach is None:
        raise found.at(source, f"{what}: predict needs reaches: the level the trend must reach")
    level = default_reach if reach is None else quantity(reach, picked.unit, source,
                                                         f"{what}: predict: reaches")
    assert level is not None
    return Prediction(read("window", 6 * 3600.0), read("ahead", 24 * 3600.0), level)
