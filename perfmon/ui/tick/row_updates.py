"""The rows' part of a tick: cards and charts per row, sent whole only when a group's rows change.

For each group of ``perfmon.ui.screen.rows.ROW_GROUPS``, the tab's cursor keeps (``rows``) a digest
of the row set it shows and one of the values on its cards. A new row set (a disk appears,
an interface goes), a rebuilt view or a fresh tab sends the group's cards and chart whole;
otherwise a tick sends only the card values that changed (``View.rows``) and appends to the
chart (``extendData``).

The charts are drawn from the rows' history where the API keeps it (``rhist``: read over the
fixed charts' buckets, ``perfmon.ui.tick.row_history``), and follow the API as the fixed charts
do: a point per sample (mode ``raw``, from the sample itself, once per sample: ``rseq``),
whole buckets as they settle (``buckets``), nothing in a zoom (``fixed``). Where the API keeps
no per-row history, a range of single samples is drawn from the samples the tab has seen
since it was opened, and a range of buckets stays empty: a sample is no bucket's mean.
When a row appears on an API that keeps their history, the tick rebuilds the view
(``rows_changed``, applied as the sample arrives in ``perfmon.ui.tick.reading``), so the
group's chart is drawn again with every row's history.

Pure: the sample and the rows' history columns in, updates out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfmon.core.metrics import Group
from perfmon.core.units import chart_time
from perfmon.ui.screen import ids, row_cards, row_charts
from perfmon.ui.screen.cards import Thresholds
from perfmon.ui.screen.overlays import Marks, level_line
from perfmon.ui.screen.rows import ROW_GROUPS, Shown, charted, rows_shown
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.view import View

Sample = Mapping[str, Any]
# What a tab shows of a group, in its cursor, which every tick carries both ways: 8 hex digits
# of its row set (a new disk missed once in 4 billion changes) and 4 of its cards' values (a
# change missed once in 65,536 shows at the next one), per group in ROW_GROUPS' order.
ROW_SET_BYTES, VALUES_BYTES = 4, 2
SHOWN_CHARS = 2 * (ROW_SET_BYTES + VALUES_BYTES)
Columns = Mapping[str, Sequence[Any]]


@dataclass(frozen=True)
class RowHistory:
    """What a rebuild read for the rows: history columns by series key, at the times ``x``."""

    x: list[str] = field(default_factory=list)
    columns: Columns = field(default_factory=dict)
    starts: list[float] = field(default_factory=list)  # each point's bucket, from its start
    width: float = 0.0


def rebuilt_this_tick(view: View) -> bool:
    """Whether the fixed charts were drawn whole in this view (a new span, an API restart, a fresh tab)."""
    return f"{ids.graph(ids.GRAPH_NAMES[0])}.figure" in view.updates


def short_digest(value: Any, size: int) -> str:
    """``size`` bytes of a fingerprint of JSON-able data, in hex."""
    return hashlib.blake2s(json.dumps(value).encode(), digest_size=size).hexdigest()


def row_set(group: Group, rows: list[Shown] | None, banded: bool = False) -> str:
    """A digest of which rows a group has (None: it has none in the sample), and whether its chart has the
    band of firing periods (a rule watches it): either changed, the chart is drawn whole again."""
    names = None if rows is None else [r.name for r in rows]
    return short_digest([names, True] if banded else names, ROW_SET_BYTES)


def shown_of(cursor: Cursor) -> dict[str, str]:
    """What the tab shows of each group (``row set + values`` digests); nothing from another page's."""
    text = cursor.rows or ""
    if len(text) != SHOWN_CHARS * len(ROW_GROUPS):
        return {}
    return {g.name: text[i * SHOWN_CHARS:(i + 1) * SHOWN_CHARS] for i, g in enumerate(ROW_GROUPS)}


_made: tuple[Sample | None, dict[str, list[Shown] | None]] = (None, {})  # the last sample's rows


def rows_of(group: Group, sample: Sample) -> list[Shown] | None:
    """``rows_shown``, made once per sample: a tick asks when the sample arrives (``rows_changed``)
    and again when it shows the rows (the last sample's are kept; the tabs' ticks interleave)."""
    global _made
    of, made = _made
    if of is not sample:
        of, made = sample, {}
        _made = (of, made)
    if group.name not in made:
        made[group.name] = rows_shown(group, sample)
    return made[group.name]


def rows_changed(cursor: Cursor, sample: Sample, watched: frozenset[str] = frozenset()) -> bool:
    """Whether a group the tab shows has other rows in ``sample`` than on screen (a disk appeared), or
    its chart gained or lost the band of firing periods (``watched``: the groups a rule watches)."""
    shown = shown_of(cursor)
    return any(shown[group.name][:2 * ROW_SET_BYTES] != row_set(group, rows_of(group, sample),
                                                                 group.name in watched)
               for group in ROW_GROUPS if group.name in shown)


def show_rows(view: View, cursor: Cursor, sample: Sample, thresholds: Thresholds,
              history: RowHistory | None = None, marks: Mapping[str, Marks] | None = None) -> Cursor:
    """Every row group's cards and chart, as much of them as the tab does not show yet.

    ``history``: the rows' series over the buckets the fixed charts read in this view (all of
    their range when they were rebuilt, the new buckets when they appended some); ``marks``: the
    alert rules' firing periods of each group a rule watches (its chart has their band).
    """
    rebuilt = rebuilt_this_tick(view)
    if rebuilt:
        cursor = cursor.but(rhist=history is not None)
    shown = shown_of(cursor)
    new_sample = sample["seq"] != cursor.rseq
    for group in ROW_GROUPS:
        shown[group.name] = show_group(view, group, shown.get(group.name), cursor, sample, thresholds,
                                       history, rebuilt, new_sample, (marks or {}).get(group.name))
    return cursor.but(rows="".join(shown[group.name] for group in ROW_GROUPS), rseq=sample["seq"])


def show_group(view: View, group: Group, before: str | None, cursor: Cursor, sample: Sample,
               thresholds: Thresholds, history: RowHistory | None, rebuilt: bool, new_sample: bool,
               marked: Marks | None = None) -> str:
    """One group's updates; returns what the tab shows of it now (its row set's and values' digests)."""
    rows = rows_of(group, sample)
    values = row_cards.row_values(group, rows or [], thresholds)
    now = row_set(group, rows, marked is not None) + short_digest(values, VALUES_BYTES)
    point = [chart_time(sample["timestamp"], sample["interval_seconds"] < 1)]
    graph = ids.row_graph(group.name)
    if rebuilt or before is None or before[:2 * ROW_SET_BYTES] != now[:2 * ROW_SET_BYTES]:
        view.updates[f"{ids.row_cards(group.name)}.children"] = row_cards.cards(
            group, rows, row_cards.reason_of(sample, group), thresholds)
        drawn = history if rebuilt else None
        live = point if drawn is None and live_points(cursor) else []
        x, columns = whole_chart(group, rows or [], drawn, live)
        band = None if marked is None else (band_of(marked, drawn) + marked.firing(
            [sample["timestamp"]] if live else [], 0))
        view.updates[f"{graph}.figure"] = row_charts.figure(
            group, rows or [], x, columns, revision=f"{cursor.view or ''}:{now[:2 * ROW_SET_BYTES]}",
            shared_x=bool(x) and x == view.x,  # the fixed charts' buckets: their times, sent once
            lines=group_lines(group, sample, thresholds), band=band)
        return now
    if rows and before != now:
        view.rows.extend(row_cards.row_values(group, rows, thresholds))
    if rows and history is not None and history.x:  # whole buckets, read as the fixed charts' were
        view.updates[f"{graph}.extendData"] = row_charts.extend(
            group, rows, history.x, history.columns, max_points(cursor), ends_view_x(view, history.x),
            band=None if marked is None else band_of(marked, history))
    elif rows and new_sample and live_points(cursor):
        band = None if marked is None else marked.firing([sample["timestamp"]], 0)
        view.updates[f"{graph}.extendData"] = row_charts.extend(
            group, rows, point, row_charts.sample_columns(group, rows), max_points(cursor),
            ends_view_x(view, point), band=band)
    return now


def band_of(marked: Marks, history: RowHistory | None) -> list[int | None]:
    """Which of the history's points fall in a firing period."""
    return [] if history is None else marked.firing(history.starts, history.width)


def group_lines(group: Group, sample: Sample, thresholds: Thresholds) -> list[tuple[float, str, str]]:
    """The levels of the alert rules that watch a group's chart, as it draws them."""
    fields = charted(group)
    watching = thresholds.lines(group.name, [f.series_name for f in fields])
    return [line for watch in watching if (line := level_line(watch, sample, fields[0].unit)) is not None]


def ends_view_x(view: View, x: Sequence[str]) -> bool:
    """Whether the times ``x`` are the last of the view's shared ones (the browser takes them from there)."""
    return bool(x) and bool(view.x) and list(view.x[-len(x):]) == list(x)


def live_points(cursor: Cursor) -> bool:
    """Whether a chart appends the sample's point: only while the fixed charts show a point per sample."""
    return cursor.mode == "raw"


def whole_chart(group: Group, rows: list[Shown], history: RowHistory | None,
                point: list[str]) -> tuple[list[str], dict[str, list[Any]]]:
    """The times and columns a group's chart is drawn from: its history, or the sample's point."""
    x = list(history.x) if history is not None else []
    columns = {key: list(history.columns.get(key) or [None] * len(x)) if history is not None else []
               for key in row_charts.trace_keys(group, rows)}
    if point:
        x += point
        for key, value in row_charts.sample_columns(group, rows).items():
            columns[key].append(value[0])
    return x, columns


def max_points(cursor: Cursor) -> int:
    """How many points a row chart keeps: as many as the fixed charts of the tab's view."""
    return max(1, int(cursor.max or 1))
