"""The charts' part of a tick's read: the history answers the tab's charts need, read through the source.

All of the charts' I/O, and only it: what the answers show is drawn afterwards by the pure
:mod:`perfmon.ui.tick.charts`. A rebuild is one range query (``/api/history?start=&end=&points=``)
at the resolution :func:`perfmon.ui.tick.resolution.plan` picks, so it reads the API's whole
history (and after a restart shows every sample kept from before it: the only gap is the real
downtime). Then the charts follow the API in one of three ways, the tab cursor's ``mode``:

- ``raw``: a point per sample; new samples by cursor (``since=seq``), every tick;
- ``buckets``: a point per bucket of several samples; each bucket once the store holds
  all of it (a sample after it exists), so a long range changes every few minutes (on a
  young install with no whole bucket yet, the one still filling is drawn, and the charts
  are rebuilt once it is whole);
- ``fixed``: a zoom, which stays as it was loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from perfmon.core.shapes import Sample
from perfmon.ui.source.client import ApiUnavailable, PerformanceClient
from perfmon.ui.tick import resolution
from perfmon.ui.tick.charts import Answer, ChartRead, NewBuckets, NewSamples, Rebuild, cores_of, needs_rebuild
from perfmon.ui.tick.cursor import Cursor
from perfmon.ui.tick.ranges import Span

Remaining = Callable[[], float]
Following = tuple[bool, ChartRead]  # False: only a rebuild can be right


def same_instance(answer: Answer, sample: Sample) -> None:
    """Raise when the history comes from another server instance than the sample."""
    if answer["instance_id"] != sample["instance_id"]:
        raise ApiUnavailable("the API restarted during this poll")


async def read_charts(client: PerformanceClient, cursor: Cursor, sample: Sample, span: Span,
                      remaining: Remaining) -> ChartRead:
    """What the charts need: the whole range when the span, the host or the API changed; else what is new."""
    if not needs_rebuild(cursor, sample, span):
        following, read = await read_following(client, cursor, sample, remaining)
        if following:
            return read
    return await read_rebuild(client, sample, span, remaining)


async def read_rebuild(client: PerformanceClient, sample: Sample, span: Span,
                       remaining: Remaining) -> Rebuild:
    """The range query of a rebuild, and whether its last bucket is still filling.

    A live range of buckets ends with the last whole one; when none of them has data yet
    (a young install's month), the range moves on a bucket, to draw the one still filling.
    """
    plan = resolution.plan(span, sample["timestamp"], sample["interval_seconds"], cores_of(sample))
    answer = await client.history_range(plan.start, plan.end, plan.points, remaining())
    same_instance(answer, sample)
    if plan.raw or not span.live or resolution.has_data(answer["series"]):
        return Rebuild(plan, answer)
    width = (plan.end - plan.start) / plan.points
    answer = await client.history_range(plan.start + width, plan.end + width, plan.points, remaining())
    same_instance(answer, sample)
    return Rebuild(plan, answer, filling=True)


async def read_following(client: PerformanceClient, cursor: Cursor, sample: Sample,
                         remaining: Remaining) -> Following:
    """What is new in the tab's mode."""
    if cursor.mode == "raw":
        return await read_samples(client, cursor, sample, remaining)
    if cursor.mode == "buckets":
        return await read_buckets(client, cursor, sample, remaining)
    return True, None  # a zoom stays as it was loaded


async def read_samples(client: PerformanceClient, cursor: Cursor, sample: Sample,
                       remaining: Remaining) -> Following:
    """The samples after the cursor's seq, up to the sample just read."""
    seq, points = cursor.seq, int(cursor.max or 0)
    if seq is None or seq > sample["seq"] or sample["seq"] - seq > points:
        return False, None
    history = await client.history(seq, points, remaining(), instance=sample["instance_id"],
                                   upto=sample["seq"])
    same_instance(history, sample)
    return True, NewSamples(history) if history["series"]["seq"] else None


async def read_buckets(client: PerformanceClient, cursor: Cursor, sample: Sample,
                       remaining: Remaining) -> Following:
    """The buckets after the cursor's ``next`` that the store holds all of."""
    start, width = float(cursor.next or 0), float(cursor.res or 0)  # JSON makes whole numbers ints
    count = resolution.settled_buckets(start, width, sample["timestamp"])
    if count == 0:
        return True, None
    if count > int(cursor.max or 0) or cursor.seq is not None:
        return False, None  # away longer than the chart spans, or the last bucket drawn filled since
    answer = await client.history_range(start, start + count * width, count, remaining())
    same_instance(answer, sample)
    if abs(answer["resolution_seconds"] - width) > 1e-6 or len(answer["series"]["timestamp"]) != count:
        return False, None  # the store answers on another grid now (a tier was trimmed): start again
    return True, NewBuckets(start, width, answer)


def read_range(read: ChartRead) -> tuple[float, float, int] | None:
    """The buckets (start, end, points) a read asked for: the rows' history is read over the same ones.

    None when the charts read no buckets this tick (nothing new, or new samples by cursor).
    """
    if isinstance(read, Rebuild):
        plan = read.plan
        shift = (plan.end - plan.start) / plan.points if read.filling else 0.0
        return plan.start + shift, plan.end + shift, plan.points
    if isinstance(read, NewBuckets):
        count = len(read.answer["series"]["timestamp"])
        return read.start, read.start + count * read.width, count
    return None

