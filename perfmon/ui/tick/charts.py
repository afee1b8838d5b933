"""The charts' part of a tick, drawn from what was read: rebuild them whole, or append what is new.

Pure: the history answers come in (:mod:`perfmon.ui.tick.chart_reads` read them through the
source first), figures and ``extendData`` payloads and the tab's next cursor come out. Which
answers there are says what to draw:

- :class:`Rebuild`: every chart, whole, from one range query at the resolution
  :func:`perfmon.ui.tick.resolution.plan` picks; the cursor then says how to follow the API;
- :class:`NewSamples`: a point per sample after the cursor's ``seq`` (mode ``raw``);
- :class:`NewBuckets`: a point per bucket the store now holds all of (mode ``buckets``);
- nothing (None): the charts stay as they are (a zoom, mode ``fixed``, or nothing new yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from perfmon.core import units
from perfmon.core.shapes import Sample
from perfmon.ui.screen import figures, ids
from perfmon.ui.screen.overlays import NO_MARKS, Marks
from perfmon.ui.tick import resolution
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.ranges import Span
from perfmon.ui.tick.view import View

Answer = Mapping[str, Any]  # an /api/history answer: its series as columns


@dataclass(frozen=True)
class Rebuild:
    """The range answer every chart is drawn from; ``filling``: its last bucket is still filling."""

    plan: resolution.Plan
    answer: Answer
    filling: bool = False


@dataclass(frozen=True)
class NewSamples:
    """The samples after the cursor's ``seq`` (at least one)."""

    history: Answer


@dataclass(frozen=True)
class NewBuckets:
    """The buckets from ``start``, ``width`` seconds each, that the store now holds all of."""

    start: float
    width: float
    answer: Answer


ChartRead = Rebuild | NewSamples | NewBuckets | None


def has_swap(sample: Sample) -> bool:
    """False on a host without swap space (a total of 0, or unreadable): the charts leave swap out."""
    return bool(sample["swap"].get("total_bytes"))


def cores_of(sample: Sample) -> int:
    """How many CPUs the heatmap has rows for."""
    cpu = sample["cpu"]
    return int(cpu.get("count_logical") or len(cpu.get("per_cpu_percent") or ()) or 1)


def shape_of(cursor: Cursor, interval: float, cores: int = 0) -> figures.Shape:
    """How the tab's charts are drawn, as its cursor remembers (a band if a point holds several samples)."""
    band = resolution.banded(float(cursor.res or 0), interval)
    return figures.Shape(band=band, swap=bool(cursor.swap), revision=cursor.view or "", cores=cores,
                         width=float(cursor.res or 0) if band else 0.0)



def centres(timestamps: list[float], width: float) -> list[str]:
    """The x of buckets: their middles, so a bucket of one sample sits where the sample was taken."""
    return figures.chart_times([ts + width / 2 for ts in timestamps], width < 1)


def arrived(cursor: Cursor, sample: Sample, span: Span) -> Cursor:
    """The cursor once the sample is read: a new API instance means cards again, and a live view again.

    A live span is rebuilt from the history the new instance kept (``view`` stays None until a
    rebuild succeeds); a zoom stays.
    """
    if cursor.instance == sample["instance_id"]:
        return cursor
    cursor = cursor.but(instance=sample["instance_id"], perf=None, procs=None, disks=None, host=None)
    return cursor.but(view=None) if span.live else cursor


def needs_rebuild(cursor: Cursor, sample: Sample, span: Span) -> bool:
    """True when the tab's charts show another span, or swap came or went."""
    return cursor.view != span.key or cursor.swap != has_swap(sample)


def show_charts(view: View, cursor: Cursor, sample: Sample, span: Span, read: ChartRead,
                marked: Mapping[str, Marks] | None = None) -> Cursor:
    """Draw what was read into the view, with the alert rules' marks by graph id; the tab's next cursor."""
    marked = marked or {}
    if isinstance(read, Rebuild):
        return show_rebuild(view, cursor, sample, span, read, marked)
    if isinstance(read, NewSamples):
        return show_samples(view, cursor, sample, read, marked)
    if isinstance(read, NewBuckets):
        return show_buckets(view, cursor, sample, read, marked)
    return cursor


def show_rebuild(view: View, cursor: Cursor, sample: Sample, span: Span, read: Rebuild,
                 marked: Mapping[str, Marks]) -> Cursor:
    """Every chart, whole; the cursor then says how to follow the API.

    In ``buckets`` mode a ``seq`` (otherwise None there) says the last bucket drawn was still
    filling: once it is whole, the charts are rebuilt (at most once per bucket, while young).
    """
    interval = sample["interval_seconds"]
    series, width, filling = read.answer["series"], read.answer["resolution_seconds"], read.filling
    count = len(series["timestamp"])
    mode = "raw" if read.plan.raw and not resolution.banded(width, interval) else "buckets"
    mode = mode if span.live else "fixed"
    cursor = cursor.but(view=span.key, swap=has_swap(sample), mode=mode, res=width, max=count,
                        seq=sample["seq"] if mode == "raw" else 0 if filling else None,
                        next=round(read.answer["start"] + (count - filling) * width, 3)
                        if mode == "buckets" else None)
    shape = shape_of(cursor, interval, cores_of(sample))
    for graph_id, figure in figures.figures(series, shape, marked).items():
        view.updates[f"{ids.graph(graph_id)}.figure"] = figure
    view.x = centres(series["timestamp"], width)
    words = resolution.describe(width, interval, read.answer["tier"])
    note = resolution.history_note(series, width, interval, sample["timestamp"])
    view.updates[f"{ids.RESOLUTION}.children"] = f"{words} · {note}" if note else words
    return cursor


def show_samples(view: View, cursor: Cursor, sample: Sample, read: NewSamples,
                 marked: Mapping[str, Marks]) -> Cursor:
    """The samples after the cursor's seq, a point each; a null point first where some were lost."""
    history, seq, points = read.history, cursor.seq, int(cursor.max or 0)
    series = history["series"]
    interval = sample["interval_seconds"]
    gap = history["truncated"] or seq is None or series["seq"][0] != seq + 1
    x = figures.chart_times(series["timestamp"], interval < 1)
    if gap:
        x.insert(0, units.chart_time(figures.gap_time(series["timestamp"][0], interval), interval < 1))
    view.x = x
    shape = shape_of(cursor, interval)
    for graph_id in figures.GRAPH_IDS:
        view.updates[f"{ids.graph(graph_id)}.extendData"] = figures.extend_payload(
            graph_id, series, points, shape, gap, marked.get(graph_id, NO_MARKS))
    return cursor.but(seq=series["seq"][-1])


def show_buckets(view: View, cursor: Cursor, sample: Sample, read: NewBuckets,
                 marked: Mapping[str, Marks]) -> Cursor:
    """The buckets the store now holds all of, a point each (nulls where nothing was sampled)."""
    series = read.answer["series"]
    view.x = centres(series["timestamp"], read.width)
    shape = shape_of(cursor, sample["interval_seconds"])
    for graph_id in figures.GRAPH_IDS:
        view.updates[f"{ids.graph(graph_id)}.extendData"] = figures.extend_payload(
            graph_id, series, int(cursor.max or 0), shape, marks=marked.get(graph_id, NO_MARKS))
    return cursor.but(next=round(read.start + len(series["timestamp"]) * read.width, 3))
