"""The rows' part of a tick: cards and charts per row, sent whole only when a group's rows change.

For each group of ``perfmon.ui.rows.ROW_GROUPS``, the tab's cursor keeps (``rows``) a digest
of the row set it shows and one of the values on its cards. A new row set (a disk appears,
an interface goes), a rebuilt view or a fresh tab sends the group's cards and chart whole;
otherwise a tick sends only the card values that changed (``View.props``) and appends the
sample's point to the chart (``extendData``), once per sample (``rseq``).

Pure: the sample (and, where the API keeps them, the rows' history columns) in, updates out.
A chart appends the sample's point while the fixed charts follow the API (modes ``raw`` and
``buckets``); a zoom shows the history the rebuild read, or nothing where there is none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfmon.core.metrics import Group
from perfmon.core.units import chart_time
from perfmon.ui import ids, row_cards, row_charts
from perfmon.ui.cards import Thresholds, digest
from perfmon.ui.rows import ROW_GROUPS, rows_shown
from perfmon.ui.view import Cursor, View

Sample = Mapping[str, Any]
# Until the API keeps the rows' history, a range of buckets is drawn from the samples the tab
# has seen since it was opened: they are all there is (a zoom into the past has none).
LIVE_MODES = frozenset({"raw", "buckets"})
Columns = Mapping[str, Sequence[Any]]


@dataclass(frozen=True)
class RowHistory:
    """What a rebuild read for the rows: history columns by series key, at the times ``x``."""

    x: list[str] = field(default_factory=list)
    columns: Columns = field(default_factory=dict)


def rebuilt_this_tick(view: View) -> bool:
    """Whether the fixed charts were drawn whole in this view (a new span, an API restart, a fresh tab)."""
    return f"{ids.graph(ids.GRAPH_NAMES[0])}.figure" in view.updates


def show_rows(view: View, cursor: Cursor, sample: Sample, thresholds: Thresholds,
              history: RowHistory | None = None) -> None:
    """Every row group's cards and chart, as much of them as the tab does not show yet."""
    rebuilt = rebuilt_this_tick(view) or history is not None
    shown: dict[str, str] = dict(cursor.get("rows") or {})
    new_sample = sample["seq"] != cursor.get("rseq")
    for group in ROW_GROUPS:
        shown[group.name] = show_group(view, group, shown.get(group.name), cursor, sample, thresholds,
                                       history if rebuilt else None, rebuilt, new_sample)
    cursor["rows"] = shown
    cursor["rseq"] = sample["seq"]


def show_group(view: View, group: Group, before: str | None, cursor: Cursor, sample: Sample,
               thresholds: Thresholds, history: RowHistory | None, rebuilt: bool, new_sample: bool) -> str:
    """One group's updates; returns what the tab shows of it now (``rowset:values`` digests)."""
    rows = rows_shown(group, sample)
    row_set = digest(None if rows is None else [r.name for r in rows])
    values = digest([row_cards.value_props(group, rows or [], thresholds)])
    now = f"{row_set}:{values}"
    live = cursor.get("mode") in LIVE_MODES
    point = [chart_time(sample["timestamp"], sample["interval_seconds"] < 1)]
    if rebuilt or before is None or before.split(":")[0] != row_set:
        view.updates[f"{ids.row_cards(group.name)}.children"] = row_cards.cards(
            group, rows, row_cards.reason_of(sample, group), thresholds)
        x, columns = whole_chart(group, rows or [], history, point if live else [], sample)
        view.updates[f"{ids.row_graph(group.name)}.figure"] = row_charts.figure(
            group, rows or [], x, columns, revision=f"{cursor.get('view') or ''}:{row_set}")
        return now
    if rows and before != now:
        view.props.extend(row_cards.value_props(group, rows, thresholds))
    if rows and live and new_sample:
        view.updates[f"{ids.row_graph(group.name)}.extendData"] = row_charts.extend(
            group, rows, point, row_charts.sample_columns(group, rows), max_points(cursor))
    return now


def whole_chart(group: Group, rows: list[Any], history: RowHistory | None, point: list[str],
                sample: Sample) -> tuple[list[str], dict[str, list[Any]]]:
    """The times and columns a group's chart is drawn from: its history, then the sample if live."""
    x = list(history.x) if history is not None else []
    columns = {key: list(history.columns.get(key) or [None] * len(x)) if history is not None else []
               for key in row_charts.trace_keys(group, rows)}
    if point and (not x or x[-1] != point[0]):
        x += point
        for key, value in row_charts.sample_columns(group, rows).items():
            columns[key].append(value[0])
    return x, columns


def max_points(cursor: Cursor) -> int:
    """How many points a row chart keeps: as many as the fixed charts of the tab's view."""
    return max(1, int(cursor.get("max") or 1))
