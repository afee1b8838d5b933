"""The series history keeps beyond today's columns, derived from the metric groups.

Every field a group keeps (``Field.kept``) that has no column of today's ``/api/history``
(``Field.history``) is kept per row: a filesystem's ``percent`` per mount point, an
interface's rates, a disk's, a sensor's, a pressure row's ``avg10_percent``. The registry
decides, so a new group is kept with no store edit. A sample's such values are a *layout*
(the series keys, in the sample's order; one shared tuple while the rows stay the same) and
its values in that order. A history row carries them as a :class:`Record`, which is still
the plain row tuple for everything that reads today's columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from perfmon.core.metrics import GROUPS, Field, Group, Selector, SeriesKey
from perfmon.core.schema import HistoryRow, history_row

Layout = tuple[SeriesKey, ...]
SeriesValues = tuple[Layout, tuple[Any, ...]]
EMPTY: SeriesValues = ((), ())


def _kept(groups: Iterable[Group]) -> dict[tuple[str, str, bool], Field]:
    return {(g.name, f.series_name, rows): f for g in groups
            for rows, fields in ((False, g.fields), (True, g.row_fields)) for f in fields if f.kept}


# (group, series name, of a row) -> field, every kept one: a section's total and its rows' field
# may share a name (disk_io.read_bytes_per_s, a column, and disk_io[disk=vda].read_bytes_per_s)
KEPT: Mapping[tuple[str, str, bool], Field] = _kept(GROUPS)


def field_of(key: SeriesKey) -> Field | None:
    """The field a series key is of (None: no group keeps such a field)."""
    return KEPT.get((key.group, key.field, bool(key.labels)))


def steps(key: SeriesKey) -> int:
    """Integer steps per unit in which the series is kept (``Field.steps``)."""
    found = field_of(key)
    return 1 if found is None else found.steps


class Record(tuple[Any, ...]):
    """A history row (``HISTORY_COLUMNS`` order) with the sample's other series attached as ``series``."""

    series: SeriesValues

    def __new__(cls, row: Iterable[Any], series: SeriesValues = EMPTY) -> Record:
        record = super().__new__(cls, row)
        record.series = series
        return record

    def __reduce__(self) -> tuple[Any, ...]:
        return Record, (tuple(self), self.series)


def series_of(row: Sequence[Any]) -> SeriesValues:
    """The other series of a history row (none for a plain tuple)."""
    return getattr(row, "series", EMPTY)


class Layouts:
    """Makes each sample's layout (as ``Group.series`` orders it), reusing the previous tuple while the
    rows stay the same: a sample costs a walk over its rows, and keys are made only when rows change."""

    def __init__(self, groups: Iterable[Group] = GROUPS) -> None:
        self._plan = [(g, tuple(f.name for f in g.fields if f.kept and f.history is None),
                       tuple(f.name for f in g.row_fields if f.kept and f.history is None)) for g in groups]
        self._plan = [(g, section, rows) for g, section, rows in self._plan if section or rows]
        self._last: tuple[Any, Layout] = ((), ())

    def values(self, sample: Mapping[str, Any]) -> SeriesValues:
        """The sample's series without a column of their own, and their values."""
        values: list[Any] = []
        shape: list[Any] = []  # each group's row labels: the layout changes only with them
        for group, section_fields, row_fields in self._plan:
            section = group.section(sample)
            for name in section_fields:
                values.append(section.get(name) if isinstance(section, Mapping) else None)
            labels, row_values = group.keyed_values(sample, row_fields) if row_fields else ((), ())
            values.extend(row_values)
            shape.append(tuple(labels))
        signature = tuple(shape)
        if signature != self._last[0]:
            self._last = (signature, self._layout(signature))
        return self._last[1], tuple(values)

    def _layout(self, signature: tuple[Any, ...]) -> Layout:
        keys: list[SeriesKey] = []
        for (group, section_fields, row_fields), rows in zip(self._plan, signature, strict=True):
            keys.extend(SeriesKey(group.name, group.field(name).series_name) for name in section_fields)
            names = [next(f.series_name for f in group.row_fields if f.name == name) for name in row_fields]
            keys.extend(SeriesKey(group.name, name, labels) for labels in rows for name in names)
        return tuple(keys)

    def record(self, sample: Mapping[str, Any]) -> Record:
        """The sample's history row with its other series."""
        return Record(history_row(sample), self.values(sample))


def matching(selectors: Iterable[Selector], keys: Iterable[SeriesKey]) -> list[SeriesKey]:
    """The keys any selector picks: by selector, then in the order given; each once."""
    candidates = list(dict.fromkeys(keys))
    picked: dict[SeriesKey, None] = {}
    for selector in selectors:
        for key in candidates:
            if key not in picked and selector.matches(key):
                picked[key] = None
    return list(picked)


def layouts_keys(rows: Iterable[HistoryRow]) -> list[SeriesKey]:
    """Every other series in ``rows``, in the order they first appear."""
    seen: dict[int, Layout] = {}
    for row in rows:
        layout = series_of(row)[0]
        if layout and id(layout) not in seen:
            seen[id(layout)] = layout
    return list(dict.fromkeys(key for layout in seen.values() for key in layout))


def _columns(groups: Iterable[Group]) -> tuple[dict[SeriesKey, str], dict[tuple[str, str], str]]:
    """Today's columns as series: a section's (``memory.percent``), and a row field's (per CPU)."""
    sections = {SeriesKey(g.name, f.series_name): f.history for g in groups for f in g.fields
                if f.history and f.kind != "info"}
    rows = {(g.name, f.series_name): f.history for g in groups for f in g.row_fields if f.history}
    return sections, rows


# memory.percent -> memory_percent; ("cpu", "percent") -> per_cpu_percent (its element per row)
COLUMN_OF, ROW_COLUMN_OF = _columns(GROUPS)


def row_column_keys(width: int) -> list[SeriesKey]:
    """The series of today's list columns, ``width`` rows each (``cpu[cpu=0].percent`` ...)."""
    out: list[SeriesKey] = []
    for (group_name, name), _ in ROW_COLUMN_OF.items():
        group = next(g for g in GROUPS if g.name == group_name)
        out.extend(SeriesKey(group_name, name, ((group.key[0], str(i)),)) for i in range(width))
    return out
