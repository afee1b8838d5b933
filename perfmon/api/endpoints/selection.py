"""``/api/history?series=SELECTOR``: which series a query picks, and the columns of its answer.

Selectors (``perfmon.core.metrics.selector``) come repeated or as a list in one parameter, split
at commas outside brackets and quotes. Each is checked against the registry (``kept_fields``):
one that names nothing history keeps is a 400 naming ``series``; one that matches no series (a
disk not mounted now) adds nothing. A matched series is a column named by its key, in the
sample's units: today's columns under their series keys (``memory.percent``, ``cpu[cpu=0].percent``)
and the other series the store keeps (``perfmon.store.series``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from multidict import MultiMapping

from perfmon.api.edge.errors import ApiError
from perfmon.core.metrics import Selector, SelectorError, SeriesKey, kept_fields
from perfmon.core.schema import HISTORY_COLUMNS, HistoryRow
from perfmon.store.base import RangeResult
from perfmon.store.series import (
    COLUMN_OF,
    ROW_COLUMN_OF,
    field_of,
    layouts_keys,
    matching,
    row_column_keys,
    series_of,
)

NAME = "series"
MAX_SELECTORS = 50
MAX_SERIES = 500
CORES = HISTORY_COLUMNS.index("per_cpu_percent")


def split(text: str) -> list[str]:
    """Selectors in one parameter: split at commas outside ``[...]`` and ``"..."``."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted, escaped = 0, False, False
    for char in text:
        if quoted:
            quoted = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == '"':
            quoted = True
        elif char == "[":
            depth += 1
        elif char == "]":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def read_selectors(query: MultiMapping[str]) -> tuple[Selector, ...]:
    """The selectors of ``series=`` (none: the answer of today); 400 naming 'series' for a bad one."""
    selectors: list[Selector] = []
    for text in query.getall(NAME, []):
        for part in split(text):
            if len(selectors) == MAX_SELECTORS:
                raise ApiError(400, f"parameter '{NAME}': at most {MAX_SELECTORS} selectors in one request")
            try:
                selector = Selector.parse(part)
                kept_fields(selector)
            except SelectorError as exc:
                raise ApiError(400, f"parameter '{NAME}': {exc}") from None
            selectors.append(selector)
    return tuple(selectors)


def _picked(selectors: Sequence[Selector], candidates: Iterable[SeriesKey]) -> list[SeriesKey]:
    picked = matching(selectors, candidates)
    if len(picked) > MAX_SERIES:
        raise ApiError(400, f"parameter '{NAME}': the selectors match {len(picked)} series, at most "
                            f"{MAX_SERIES} in one request: pick fewer")
    return picked


def describe(key: SeriesKey) -> dict[str, Any]:
    """One entry of the answer's ``keys``."""
    found = field_of(key)
    return {"key": str(key), "group": key.group, "field": key.field, "labels": dict(key.labels),
            "unit": found.unit if found else None, "kind": found.kind if found else None}


def _width(values: Iterable[Any]) -> int:
    return max((len(v) for v in values if isinstance(v, list)), default=0)


def _element(values: Sequence[Any], index: int) -> list[Any]:
    return [v[index] if isinstance(v, list) and index < len(v) else None for v in values]


def tail_columns(rows: Sequence[HistoryRow], selectors: Sequence[Selector]) -> tuple[list[SeriesKey],
                                                                                      dict[str, list[Any]]]:
    """The picked series of cursor rows: ``seq``, ``timestamp`` and one column per series."""
    cores = [row[CORES] for row in rows]
    picked = _picked(selectors, [*COLUMN_OF, *row_column_keys(_width(cores)), *layouts_keys(rows)])
    columns: dict[str, list[Any]] = {name: [row[HISTORY_COLUMNS.index(name)] for row in rows]
                                     for name in ("seq", "timestamp")}
    positions: dict[int, dict[SeriesKey, int]] = {}
    for key in picked:
        if key in COLUMN_OF:
            at = HISTORY_COLUMNS.index(COLUMN_OF[key])
            columns[str(key)] = [row[at] for row in rows]
        elif (key.group, key.field) in ROW_COLUMN_OF and key.labels:
            at = HISTORY_COLUMNS.index(ROW_COLUMN_OF[key.group, key.field])
            columns[str(key)] = _element([row[at] for row in rows], int(key.labels[0][1]))
        else:
            columns[str(key)] = [_value(row, key, positions) for row in rows]
    return picked, columns


def _value(row: HistoryRow, key: SeriesKey, positions: dict[int, dict[SeriesKey, int]]) -> Any:
    layout, values = series_of(row)
    where = positions.get(id(layout))
    if where is None:
        where = positions[id(layout)] = {k: i for i, k in enumerate(layout)}
    at = where.get(key)
    return None if at is None else values[at]


def range_columns(result: RangeResult, selectors: Sequence[Selector]) -> tuple[list[SeriesKey],
                                                                                dict[str, list[Any]]]:
    """The picked series of a range read: ``timestamp``, then each series' mean, ``_min`` and ``_max``."""
    series = result.series
    cores = series.get("per_cpu_percent", [])
    picked = _picked(selectors, [*COLUMN_OF, *row_column_keys(_width(cores)), *result.extra])
    columns: dict[str, list[Any]] = {"timestamp": series["timestamp"]}
    empty = [None] * len(series["timestamp"])
    for key in picked:
        name = str(key)
        if key in COLUMN_OF:
            column = COLUMN_OF[key]
            means, lows, highs = series[column], series[f"{column}_min"], series[f"{column}_max"]
        elif (key.group, key.field) in ROW_COLUMN_OF and key.labels:
            # per CPU the tiers keep sums only: the mean, and no min or max
            means, lows, highs = _element(cores, int(key.labels[0][1])), empty, empty
        else:
            means, lows, highs = result.extra[key]
        columns[name], columns[f"{name}_min"], columns[f"{name}_max"] = means, lows, highs
    return picked, columns


def keys_of(picked: Iterable[SeriesKey]) -> list[dict[str, Any]]:
    """The answer's ``keys``: each picked series described, in order."""
    return [describe(key) for key in picked]

