"""The charts' part of a tick: rebuild them for the tab's span, or append what is new.

A rebuild is one range query (``/api/history?start=&end=&points=``) at the resolution
:func:`perfmon.ui.resolution.plan` picks, so it reads the API's whole history (and after a
restart shows every sample kept from before it: the only gap is the real downtime). Then
the charts follow the API in one of three ways, the tab cursor's ``mode``:

- ``raw``: a point per sample; new samples by cursor (``since=seq``), every tick;
- ``buckets``: a point per bucket of several samples; each bucket once the store holds
  all of it (a sample after it exists), so a long range changes every few minutes (on a
  young install with no whole bucket yet, the one still filling is drawn, and the charts
  are rebuilt once it is whole);
- ``fixed``: a zoom, which stays as it was loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from perfmon.core import units
from perfmon.ui import figures, ids, resolution
from perfmon.ui.client import ApiUnavailable, PerformanceClient
from perfmon.ui.ranges import Span
from perfmon.ui.view import Cursor, View

Sample = Mapping[str, Any]
Remaining = Callable[[], float]


def has_swap(sample: Sample) -> bool:
    """False on a host without swap space (a total of 0, or unreadable): the charts leave swap out."""
    return bool(sample["swap"].get("total_bytes"))


def cores_of(sample: Sample) -> int:
    """How many CPUs the heatmap has rows for."""
    cpu = sample["cpu"]
    return int(cpu.get("count_logical") or len(cpu.get("per_cpu_percent") or ()) or 1)


def shape_of(cursor: Cursor, interval: float, cores: int = 0) -> figures.Shape:
    """How the tab's charts are drawn, as its cursor remembers (a band if a point holds several samples)."""
    return figures.Shape(band=resolution.banded(float(cursor["res"]), interval), swap=bool(cursor["swap"]),
                         revision=cursor["view"] or "", cores=cores)


def centres(timestamps: list[float], width: float) -> list[str]:
    """The x of buckets: their middles, so a bucket of one sample sits where the sample was taken."""
    return figures.chart_times([ts + width / 2 for ts in timestamps], width < 1)


def same_instance(answer: Mapping[str, Any], sample: Sample) -> None:
    """Raise when the history comes from another server instance than the sample."""
    if answer["instance_id"] != sample["instance_id"]:
        raise ApiUnavailable("the API restarted during this poll")


async def update_charts(view: View, cursor: Cursor, client: PerformanceClient, sample: Sample, span: Span,
                  remaining: Remaining) -> None:
    """Rebuild every chart when the tab's span, the host or the API changed; else append what is new."""
    if cursor["instance"] != sample["instance_id"]:
        # a new server: cards again, and a live view again (from the history it kept); a zoom stays
        cursor.update(instance=sample["instance_id"], perf=None, procs=None, disks=None, host=None)
        if span.live:
            cursor["view"] = None  # stays None until a rebuild succeeds
    stale = cursor["view"] != span.key or cursor["swap"] != has_swap(sample)
    if stale or not await append(view, cursor, client, sample, remaining):
        await rebuild(view, cursor, client, sample, span, remaining)


async def range_answer(client: PerformanceClient, sample: Sample, plan: resolution.Plan, live: bool,
                       remaining: Remaining) -> tuple[Mapping[str, Any], bool]:
    """The range query of a rebuild, and whether its last bucket is still filling.

    A live range of buckets ends with the last whole one; when none of them has data yet
    (a young install's month), the range moves on a bucket, to draw the one still filling.
    """
    answer = await client.history_range(plan.start, plan.end, plan.points, remaining())
    same_instance(answer, sample)
    if plan.raw or not live or resolution.has_data(answer["series"]):
        return answer, False
    width = (plan.end - plan.start) / plan.points
    answer = await client.history_range(plan.start + width, plan.end + width, plan.points, remaining())
    same_instance(answer, sample)
    return answer, True


async def rebuild(view: View, cursor: Cursor, client: PerformanceClient, sample: Sample, span: Span,
            remaining: Remaining) -> None:
    """Every chart, whole, from one range query; the cursor then says how to follow the API.

    In ``buckets`` mode a ``seq`` (otherwise None there) says the last bucket drawn was still
    filling: once it is whole, the charts are rebuilt (at most once per bucket, while young).
    """
    interval = sample["interval_seconds"]
    plan = resolution.plan(span, sample["timestamp"], interval, cores_of(sample))
    answer, filling = await range_answer(client, sample, plan, span.live, remaining)
    shift = (plan.end - plan.start) / plan.points if filling else 0.0
    view.rows_range = (plan.start + shift, plan.end + shift, plan.points)
    series, width = answer["series"], answer["resolution_seconds"]
    count = len(series["timestamp"])
    mode = "raw" if plan.raw and not resolution.banded(width, interval) else "buckets"
    mode = mode if span.live else "fixed"
    cursor.update(view=span.key, swap=has_swap(sample), mode=mode, res=width, max=count,
                  seq=sample["seq"] if mode == "raw" else 0 if filling else None,
                  next=round(answer["start"] + (count - filling) * width, 3) if mode == "buckets" else None)
    for graph_id, figure in figures.figures(series, shape_of(cursor, interval, cores_of(sample))).items():
        view.updates[f"{ids.graph(graph_id)}.figure"] = figure
    view.x = centres(series["timestamp"], width)
    words = resolution.describe(width, interval, answer["tier"])
    note = resolution.history_note(series, width, interval, sample["timestamp"])
    view.updates[f"{ids.RESOLUTION}.children"] = f"{words} · {note}" if note else words


async def append(view: View, cursor: Cursor, client: PerformanceClient, sample: Sample,
           remaining: Remaining) -> bool:
    """Append what is new in the tab's mode; False when only a rebuild can be right."""
    if cursor["mode"] == "raw":
        return await append_samples(view, cursor, client, sample, remaining)
    if cursor["mode"] == "buckets":
        return await append_buckets(view, cursor, client, sample, remaining)
    return True  # a zoom stays as it was loaded


async def append_samples(view: View, cursor: Cursor, client: PerformanceClient, sample: Sample,
                   remaining: Remaining) -> bool:
    """The samples after the cursor's seq, a point each; a null point first where some were lost."""
    seq, points = cursor["seq"], cursor["max"]
    if seq is None or seq > sample["seq"] or sample["seq"] - seq > points:
        return False
    history = await client.history(seq, points, remaining(), instance=sample["instance_id"],
                                   upto=sample["seq"])
    same_instance(history, sample)
    series = history["series"]
    if not series["seq"]:
        return True
    interval = sample["interval_seconds"]
    gap = history["truncated"] or series["seq"][0] != seq + 1
    x = figures.chart_times(series["timestamp"], interval < 1)
    if gap:
        x.insert(0, units.chart_time(figures.gap_time(series["timestamp"][0], interval), interval < 1))
    view.x = x
    shape = shape_of(cursor, interval)
    for graph_id in figures.GRAPH_IDS:
        view.updates[f"{ids.graph(graph_id)}.extendData"] = figures.extend_payload(
            graph_id, series, points, shape, gap)
    cursor["seq"] = series["seq"][-1]
    return True


async def append_buckets(view: View, cursor: Cursor, client: PerformanceClient, sample: Sample,
                   remaining: Remaining) -> bool:
    """The buckets the store now holds all of, a point each (nulls where nothing was sampled)."""
    start, width = float(cursor["next"]), float(cursor["res"])  # JSON makes whole numbers ints
    count = resolution.settled_buckets(start, width, sample["timestamp"])
    if count == 0:
        return True
    if count > cursor["max"] or cursor["seq"] is not None:
        return False  # away longer than the chart spans, or the last bucket drawn filled since
    answer = await client.history_range(start, start + count * width, count, remaining())
    same_instance(answer, sample)
    series = answer["series"]
    if abs(answer["resolution_seconds"] - width) > 1e-6 or len(series["timestamp"]) != count:
        return False  # the store answers on another grid now (a tier was trimmed): start again
    view.x = centres(series["timestamp"], width)
    view.rows_range = (start, start + count * width, count)
    shape = shape_of(cursor, sample["interval_seconds"])
    for graph_id in figures.GRAPH_IDS:
        view.updates[f"{ids.graph(graph_id)}.extendData"] = figures.extend_payload(
            graph_id, series, cursor["max"], shape)
    cursor["next"] = round(start + count * width, 3)
    return True
