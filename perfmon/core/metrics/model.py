"""The data model of "many of everything": a metric group declares its rows' identity and its fields once.

A **group** is one kind of thing the host has: the CPU, its filesystems, its network interfaces.
It says where it sits in the sample (``path``), the fields of its section (one value each), and,
when it has many of something, where its rows are (``rows``), the labels that name a row
(``key``) and the fields of each row. Everything else is derived from the declarations: the
sample's empty shape and paths (``perfmon.core.schema``), the history series, the Prometheus
families, the OpenAPI schemas and the dashboard's cards and charts.

A **series key** names one series: a group, a field and the labels of its row
(``SeriesKey("disks", "percent", (("mountpoint", "/"),))``, written ``disks[mountpoint=/].percent``).
A section's own fields have no labels (``memory.percent``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

# gauge: a level; rate: per second over the last interval; counter: a cumulative count since boot
# (what the kernel counts, for Prometheus' rate()); info: a label or a fact that does not move.
Kind = Literal["gauge", "rate", "counter", "info"]
Shape = Literal["scalar", "list", "map"]
Unit = Literal["percent", "bytes", "bytes_per_s", "ops_per_s", "seconds", "unix_seconds", "mhz",
               "celsius", "rpm", "load", "count", "text", "bool"]
Labels = tuple[tuple[str, str], ...]
INDEX = "#"  # a label read from the row's place in its list (the CPU number of cpu.per_cpu_percent)

# Integer steps per unit in which history keeps a value (123 kept is 12.3 %): exact enough for a chart.
SCALES: Mapping[str, int] = {"percent": 10, "load": 100, "celsius": 10, "mhz": 1, "bytes_per_s": 1,
                             "ops_per_s": 10, "bytes": 1, "count": 1, "seconds": 1000}


@dataclass(frozen=True, slots=True)
class Field:
    """One value of a section or of each row.

    ``series`` keeps it in history (per row, for a row field). ``history`` names today's
    ``/api/history`` column that keeps it (``history_index`` picks one element of a list,
    as ``load_1`` does of ``load_average``); such a field is a series too, named by the column
    (``cpu.load_1``). ``prometheus`` names its family in ``/metrics`` (a tuple: one family per
    element of a list), ``prometheus_help`` replaces the description there, ``prometheus_labels``
    names the labels of a list of maps (its index, then the map's keys) and ``prometheus_skip``
    the map keys left out. ``nullable=False`` says the value is never null where its section or
    row is there (a row's identity, a counter the kernel always gives), ``items`` the shape of
    each element of a list (``"map"``: a list of maps, as ``cpu.per_cpu_seconds_total``); the
    TypedDicts of ``perfmon.core.shapes`` are generated from both. ``path`` is dotted from the
    sample's root and set by the group (``[]`` marks the key that holds rows: ``disks[].percent``).
    """

    name: str
    unit: Unit
    description: str
    kind: Kind = "gauge"
    shape: Shape = "scalar"
    series: bool = False
    history: str | None = None
    history_index: int | None = None
    scale: int | None = None
    prometheus: str | tuple[str, ...] | None = None
    prometheus_help: str | tuple[str, ...] | None = None
    prometheus_labels: tuple[str, ...] = ()
    prometheus_skip: frozenset[str] = frozenset()
    nullable: bool = True
    items: Shape = "scalar"
    path: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """The path's keys, ``[]`` kept on the key that holds rows."""
        return tuple(self.path.split("."))

    @property
    def in_rows(self) -> bool:
        """True if the field belongs to each row of a list."""
        return "[]" in self.path

    @property
    def kept(self) -> bool:
        """Whether history keeps it as a series (``seq`` and ``timestamp`` name a row; they are no series)."""
        return (self.series or self.history is not None) and self.kind != "info"

    @property
    def series_name(self) -> str:
        """The field's name in a series key: its own, or the history column's for one element of a list."""
        if self.history_index is not None and self.history:
            return self.history
        return self.name

    @property
    def steps(self) -> int:
        """Integer steps per unit in which history keeps it."""
        return self.scale if self.scale is not None else SCALES.get(self.unit, 1)


@dataclass(frozen=True, slots=True, order=True)
class SeriesKey:
    """One series: a group's field, in one row (``labels``) or in the section (no labels)."""

    group: str
    field: str
    labels: Labels = ()

    def label(self, name: str) -> str | None:
        """The value of one label, or None if the series has no such label."""
        return next((value for key, value in self.labels if key == name), None)

    def __str__(self) -> str:
        if not self.labels:
            return f"{self.group}.{self.field}"
        inside = ",".join(f"{k}={quote(v)}" for k, v in self.labels)
        return f"{self.group}[{inside}].{self.field}"


PLAIN_VALUE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.:@+%")


def quote(value: str) -> str:
    """A label value as a selector writes it: bare when it can be, else in double quotes."""
    if value and all(c in PLAIN_VALUE for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a group in a sample: its labels and its values."""

    labels: Labels
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Group:
    """One metric group, declared once (see the module docstring).

    ``rows`` is the key of the row list inside the section (``""``: the section is the list,
    as ``disks``); ``labels`` maps every label to the row's key it is read from (``INDEX``: the
    row's place), the ``key`` labels first; labels not in ``key`` describe a row without naming
    it (a filesystem's ``fstype``). With ``values``, each row is a plain number (the element of
    ``cpu.per_cpu_percent``) read as the one row field. ``cadence_seconds`` is how often it is
    read by default (None: every sample). ``prometheus_labels`` orders the labels of its rows'
    families in ``/metrics`` (default: ``labels``' order).
    """

    name: str
    path: str
    title: str
    description: str
    fields: tuple[Field, ...] = ()
    rows: str | None = None
    key: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    row_fields: tuple[Field, ...] = ()
    values: bool = False
    cadence_seconds: float | None = None
    prometheus_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        labels = {**{k: k for k in self.key}, **self.labels}
        problems = [f"{self.name}: {why}" for why in _problems(self, labels)]
        if problems:
            raise ValueError("; ".join(problems))
        object.__setattr__(self, "labels", labels)
        base = f"{self.path}." if self.path else ""
        placed = [replace(f, path=base + f.name) for f in self.fields]
        if self.rows is not None:
            where = f"{self.path}.{self.rows}" if self.rows else self.path
            rows = [replace(f, path=where if self.values else f"{where}[].{f.name}",
                            shape="list" if self.values else f.shape) for f in self.row_fields]
            # a list of plain values follows the section's field it breaks down (cpu.percent, per CPU)
            at = next((i + 1 for i, f in enumerate(self.fields) if self.values and f.name == rows[0].name),
                      len(placed))
            placed[at:at] = rows
        object.__setattr__(self, "placed", tuple(placed))

    placed: tuple[Field, ...] = field(init=False, repr=False)

    @property
    def keyed(self) -> bool:
        """Whether the group has rows."""
        return self.rows is not None

    def field(self, name: str) -> Field:
        """A field by its series name (section fields first); KeyError names it."""
        for f in (*self.fields, *self.row_fields):
            if f.series_name == name or f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def section(self, sample: Mapping[str, Any]) -> Any:
        """The group's section in ``sample`` (None if it is null or missing)."""
        node: Any = sample
        for key in self.path.split(".") if self.path else ():
            node = node.get(key) if isinstance(node, Mapping) else None
        return node

    def rows_of(self, sample: Mapping[str, Any]) -> list[Row] | None:
        """The group's rows in ``sample``, labelled; None when it has no rows there (or none at all)."""
        if self.rows is None:
            return None
        section = self.section(sample)
        found = section
        if self.rows:
            found = section.get(self.rows) if isinstance(section, Mapping) else None
        if not isinstance(found, list):
            return None
        if self.values:
            name = self.row_fields[0].name
            return [Row(((label, str(i)),), {name: v}) for i, v in enumerate(found) for label in self.key]
        return [Row(self._labels(row, i), row) for i, row in enumerate(found) if isinstance(row, Mapping)]

    def keyed_values(self, sample: Mapping[str, Any],
                     names: tuple[str, ...]) -> tuple[list[Labels], list[Any]]:
        """``rows_of`` cut to what a series needs: each row's key labels, and the values of ``names`` of
        every row in turn (no Row made, no other label read: the history's path, every sample)."""
        found = self.section(sample)
        if self.rows and isinstance(found, Mapping):
            found = found.get(self.rows)
        if self.rows is None or not isinstance(found, list):
            return [], []
        if self.values:
            return [((label, str(i)),) for i in range(len(found)) for label in self.key], [
                v for v in found for _ in self.key]
        sources = tuple((label, self.labels[label]) for label in self.key)
        labels: list[Labels] = []
        values: list[Any] = []
        for i, row in enumerate(found):
            if isinstance(row, Mapping):
                labels.append(tuple((label, str(i) if source == INDEX else _text(row.get(source)))
                                    for label, source in sources))
                values.extend(row.get(name) for name in names)
        return labels, values

    def _labels(self, row: Mapping[str, Any], index: int) -> Labels:
        return tuple((label, str(index) if source == INDEX else _text(row.get(source)))
                     for label, source in self.labels.items())

    def row_labels(self, row: Mapping[str, Any], index: int) -> Labels:
        """Every label of the row at ``index`` (key labels first), as ``rows_of`` gives it."""
        return self._labels(row, index)

    def row_list(self, sample: Mapping[str, Any]) -> list[Any] | None:
        """The group's list of row maps in ``sample`` as it is (None when it has no rows there)."""
        found = self.section(sample)
        if self.rows and isinstance(found, Mapping):
            found = found.get(self.rows)
        return found if self.rows is not None and isinstance(found, list) else None

    def series(self, sample: Mapping[str, Any]) -> Iterator[tuple[SeriesKey, Any]]:
        """Every value history keeps from ``sample``: the section's, then each row's (key labels only)."""
        section = self.section(sample)
        for f in self.fields:
            if f.kept:
                value = section.get(f.name) if isinstance(section, Mapping) else None
                if f.history_index is not None:
                    value = value[f.history_index] if isinstance(value, list) and value else None
                yield SeriesKey(self.name, f.series_name), value
        kept = [f for f in self.row_fields if f.kept]
        if not kept:
            return
        width = len(self.key)
        for row in self.rows_of(sample) or ():
            for f in kept:
                yield SeriesKey(self.name, f.series_name, row.labels[:width]), row.values.get(f.name)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _problems(group: Group, labels: Mapping[str, str]) -> Iterator[str]:
    if group.rows is None and (group.key or group.row_fields):
        yield "a key or row fields need rows"
    if group.rows is not None and not (group.key and group.row_fields):
        yield "rows need a key and row fields"
    if list(labels)[: len(group.key)] != list(group.key):
        yield "the key labels come first"
    if group.values and len(group.row_fields) != 1:
        yield "rows of plain values have exactly one row field"
    names = [f.series_name for f in (*group.fields, *group.row_fields)]
    if len(set(names)) != len(names) and group.rows is None:
        yield "two fields share a name"
