"""What ``/metrics`` exposes: the Prometheus families, derived from the metric groups' declarations.

Every ``Field`` of ``perfmon.core.metrics`` that names a family (``prometheus=``) is exposed;
nothing here lists them. A section's field is one series; a list field names one family per
element (the load averages); a list of maps is labelled by its index and the map's keys
(``prometheus_labels``, leaving out ``prometheus_skip``); a row field is one series per row,
labelled from the row as its group's ``labels`` say (in ``Group.prometheus_labels`` order when
set). A group registered later gets its families with no edit here.

Names follow Prometheus' conventions (and node_exporter's where one exists, with ``perfmon_``
in place of ``node_``): base units in the name (``_bytes``, ``_seconds``, ``_hertz``,
``_celsius``, ``_ratio``), counters for what the kernel counts so that ``rate()`` works, and
gauges for levels. The type, the unit and the help text come from the field; its unit also says
how its value is scaled (MHz to hertz, percent to a 0-1 ratio); a field in ``bool`` is 1 or 0
(the battery's ``perfmon_battery_plugged``). A value that cannot be read is left out of the scrape.

The top processes are exported as a bounded gauge family: at most the ten a sample keeps,
labelled ``pid`` and ``name``. A process that enters the top ten makes a new series, so a host
full of short-lived processes churns series; the README shows how to drop the family with
``metric_relabel_configs`` for a fleet that does not want it. It stays because it is what
node_exporter cannot answer: *what* was using the CPU when the alert fired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfmon.core.metrics import GROUPS, INDEX, Field, Group

# How a unit is exposed: its Prometheus unit suffix and the factor to base units.
UNITS: Mapping[str, tuple[str, float]] = {
    "bytes": ("bytes", 1.0), "seconds": ("seconds", 1.0), "unix_seconds": ("seconds", 1.0),
    "celsius": ("celsius", 1.0), "mhz": ("hertz", 1e6), "percent": ("ratio", 0.01),
}
Series = tuple[tuple[str, ...], float]
# Where today's families sit in the exposition, which stays byte for byte what it was (a golden-file
# test): the order of the table they were once written in. A family not listed follows them, in
# the order of its group and field declarations.
PLACES: tuple[str, ...] = (
    "perfmon_cpu_seconds_total", "perfmon_cpu_logical_cores", "perfmon_cpu_physical_cores",
    "perfmon_cpu_frequency_hertz", "perfmon_load1", "perfmon_load5", "perfmon_load15",
    *(f"perfmon_memory_{k}_bytes" for k in ("total", "available", "used", "free")),
    *(f"perfmon_swap_{k}_bytes" for k in ("total", "used", "free")),
    *(f"perfmon_filesystem_{k}_bytes" for k in ("size", "used", "avail")),
    *(f"perfmon_disk_{k}" for k in ("read_bytes_total", "written_bytes_total", "reads_completed_total",
                                     "writes_completed_total", "io_time_seconds_total")),
    *(f"perfmon_network_{way}_{what}_total" for what in ("bytes", "packets", "errors", "drops")
      for way in ("receive", "transmit")),
    "perfmon_temperature_celsius", "perfmon_temperature_high_celsius", "perfmon_processes",
    "perfmon_top_process_cpu_ratio", "perfmon_top_process_memory_ratio", "perfmon_boot_time_seconds",
    "perfmon_sample_timestamp_seconds", "perfmon_sample_interval_seconds",
)


def derived() -> Any:
    """A dataclass attribute worked out in ``__post_init__``."""
    return dataclasses.field(init=False, repr=False)


@dataclass(frozen=True)
class Family:
    """One metric family: its exposed name, the declared field it reads, and how its labels are read.

    Type, unit, HELP text and scale are worked out once from the field, not per scrape.
    """

    name: str
    field: Field
    group: Group
    index: int | None = None  # one element of a list field (a load average)
    help: str | None = None  # instead of the field's description
    labels: tuple[str, ...] = derived()  # the label names, in the exposition's order
    type: str = derived()  # "counter" for a kernel counter, else "gauge"
    unit: str = derived()  # the Prometheus unit (the name's suffix), or "" for a plain count
    documentation: str = derived()  # the HELP text: the field's description, in the scaled unit
    scale: float = derived()
    _sources: tuple[str, ...] = derived()  # each label's key in a row (INDEX: its place)
    _where: tuple[str, ...] = derived()  # keys from the sample to the value's section, or to its rows
    _mode: str = derived()  # how the value is read: "rows", "index", "maps" or "one"
    _numbers: tuple[Any, ...] = derived()  # the value types it exposes (a bool only for a field in bool)

    def __post_init__(self) -> None:
        described = self.field
        unit, scale = UNITS.get(described.unit, ("", 1.0))
        text = self.help or described.description
        if not self.help and described.unit == "percent":
            text += " (0-1)"
        labels, sources = _labels(self.group, described)
        where = tuple(self.group.path.split(".")) if self.group.path else ()
        if described.in_rows and self.group.rows:
            where += (self.group.rows,)
        mode = ("rows" if described.in_rows else "index" if self.index is not None
                else "maps" if described.prometheus_labels else "one")
        for name, value in (("type", "counter" if described.kind == "counter" else "gauge"), ("unit", unit),
                            ("documentation", text), ("scale", scale), ("labels", labels),
                            ("_sources", sources), ("_where", where), ("_mode", mode),
                            ("_numbers", BOOLS if described.unit == "bool" else NUMBERS)):
            object.__setattr__(self, name, value)

    @property
    def path(self) -> str:
        """The sample path of the field the family reads."""
        return self.field.path

    def series(self, sample: Mapping[str, Any]) -> tuple[Series, ...]:
        """Each (label values, value) of the family in ``sample``, in the sample's order.

        Unreadable values are left out, and a label set met again is dropped (two sensors with
        one label): Prometheus refuses a whole scrape that repeats a series. Samples are plain
        dicts (JSON's): a dict check took 0.2 us here against an ABC's 1.4, on every family of a render.
        """
        node: Any = sample
        for key in self._where:
            node = node.get(key) if isinstance(node, dict) else None
        name, mode = self.field.name, self._mode
        if mode == "rows":
            if not isinstance(node, list):
                return ()
            sources = self._sources
            if INDEX in sources:
                return self._kept([(tuple(str(i) if s == INDEX else str(row.get(s)) for s in sources),
                                    row.get(name)) for i, row in enumerate(node) if isinstance(row, dict)])
            return self._kept([(tuple([str(row.get(s)) for s in sources]), row.get(name))
                               for row in node if isinstance(row, dict)])
        value = node.get(name) if isinstance(node, dict) else None
        if value is None:
            return ()
        if mode == "index":
            return self._kept([((), value[self.index] if value else None)])
        if mode == "maps":  # a list of maps: the list's index and the map's keys are the two labels
            skip = self.field.prometheus_skip
            return self._kept([((str(i), key), number) for i, entries in enumerate(value)
                               for key, number in entries.items() if key not in skip])
        return self._kept([((), value)])

    def _kept(self, raw: list[tuple[tuple[str, ...], Any]]) -> tuple[Series, ...]:
        scale, numbers, seen, kept = self.scale, self._numbers, set(), []
        for labels, value in raw:
            if value.__class__ in numbers and labels not in seen:
                seen.add(labels)
                kept.append((labels, value * scale if scale != 1.0 else +value))
        return tuple(kept)


NUMBERS = (int, float)  # exactly: a bool is no measurement
BOOLS = (bool,)  # a field declared in bool: a state, exposed as 1 or 0 (``+True`` is 1)


def _labels(group: Group, f: Field) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A family's label names and where each is read in a row (none for a section's field)."""
    if f.prometheus_labels:
        return f.prometheus_labels, ()
    if not f.in_rows:
        return (), ()
    order = group.prometheus_labels or tuple(group.labels)
    return order, tuple(group.labels[label] for label in order)


def declared(group: Group) -> Iterator[Family]:
    """The families one group's fields name, in their declaration order."""
    for f in group.placed:
        if f.prometheus is None:
            continue
        if isinstance(f.prometheus, str):
            yield Family(f.prometheus, f, group, help=_one(f.prometheus_help))
            continue
        helps = f.prometheus_help if isinstance(f.prometheus_help, tuple) else (f.prometheus_help,) * len(
            f.prometheus)
        if len(helps) != len(f.prometheus):
            raise ValueError(f"{f.path}: one prometheus_help per family, or one for all")
        for i, (name, text) in enumerate(zip(f.prometheus, helps, strict=True)):
            yield Family(name, f, group, index=i, help=text)


def _one(text: str | tuple[str, ...] | None) -> str | None:
    if isinstance(text, tuple):
        raise ValueError("a family of its own takes one prometheus_help")
    return text


def families(groups: Sequence[Group] = GROUPS) -> tuple[Family, ...]:
    """Every family the groups declare: today's in their old places, then the others; names are unique."""
    found = [family for group in groups for family in declared(group)]
    names = [family.name for family in found]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"two fields name the same family: {', '.join(twice)}")
    place = {name: i for i, name in enumerate(PLACES)}
    return tuple(sorted(found, key=lambda family: place.get(family.name, len(PLACES))))


FAMILIES: tuple[Family, ...] = families()
