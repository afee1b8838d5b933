"""PerformanceClient: the dashboard server's side of the API, shared by every tab.

One aiohttp session (one keep-alive pool) on the dashboard server's event loop serves
every tab, and so do the answers: the latest sample, the process table and range reads
are asked for once per window however many tabs poll (:mod:`perfmon.ui.source.shared`), and
tabs' cursor reads are answered from the rows the server already follows
(:mod:`perfmon.ui.source.tail`). Each call has a budget; a failure is said in words.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from perfmon.core import bounds
from perfmon.core.shapes import Sample
from perfmon.ui.source.alerts import AlertSource
from perfmon.ui.source.planner import TickPlanner
from perfmon.ui.source.shared import Fetch, SharedAnswers, TimedOut
from perfmon.ui.source.tail import RecentHistory
from perfmon.ui.source.transport import ApiHttp, ApiStarting, ApiUnavailable

__all__ = ["ApiStarting", "ApiUnavailable", "PerformanceClient", "range_params"]

log = logging.getLogger(__name__)
T = TypeVar("T")

TAIL_READ = bounds.TAIL_LIMIT  # rows per cursor read of the tail: the API's own default
SHARED_PART = 0.8  # of a poll interval: how long an answer is reused
NEXT_SAMPLE_MARGIN = 0.05  # ask again this long after a sample is due: it is published by then
HOLD_RESERVE_SECONDS = 0.1  # of a tick's budget, kept for what it reads after a held read
LEARN_SLACK_SECONDS = 0.5
# A held read waits an interval and the slack, and the API holds one WAIT_MAX_SECONDS at most
MAX_LEARN_SECONDS = bounds.WAIT_MAX_SECONDS - LEARN_SLACK_SECONDS


def range_params(start: float, end: float, points: int) -> dict[str, Any]:
    """The query of ``points`` equal buckets from ``start`` to ``end`` (Unix seconds).

    The API makes a bucket (end - start) / points wide, rounded up to a whole number of
    steps of the coarsest tier that has that many points. Whole seconds are exact in floats,
    so such a range is sent as it is. Else float rounding could round a bucket up by a whole
    step and halve the points, so the query ends a millisecond early: less than any step.
    """
    start, end = float(start), float(end)  # a cursor's times come back from the browser as ints
    if start.is_integer() and end.is_integer():
        return {"start": f"{start:.0f}", "end": f"{end:.0f}", "points": points}
    return {"start": f"{start:.3f}", "end": f"{end - 0.001:.3f}", "points": points}


class PerformanceClient:
    """Reads the perfmon API for every tab at once; an answer is shared for most of a tick.

    With tabs polling every ``poll_seconds``, an answer (or a failure) is reused for
    ``SHARED_PART`` of that, so the API is asked at most about once per tick, while one
    tab alone, whose ticks come a little early or late, still gets a fresh answer each
    tick. The latest sample is shared only until the next one is due, so sharing never
    shows a tab an older sample than it would have fetched itself.
    """

    def __init__(self, base_url: str, poll_seconds: float = 5.0, wall: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic, *, token: str | None = None,
                 ca_file: Path | None = None, check_hostname: bool = True) -> None:
        self.http = ApiHttp(base_url, token=token, ca_file=ca_file, check_hostname=check_hostname)
        self.base_url = self.http.base_url
        self.netloc = urlsplit(self.base_url).netloc
        self.window_seconds = SHARED_PART * poll_seconds
        self.shared = SharedAnswers(monotonic)
        self.planner = TickPlanner(poll_seconds, monotonic=monotonic)
        self._learning: asyncio.Task[None] | None = None  # the held read that learns the phase
        self._seen: tuple[str, int, float, float] | None = None  # instance, seq, timestamp, interval
        self.recent = RecentHistory()
        self.alerting = AlertSource(self.shared_json)
        self._wall = wall
        self._reachable: bool | None = None  # for logging changes once, however many tabs poll

    @property
    def requests(self) -> int:
        """Requests really sent to the API (shared ones once)."""
        return self.shared.requests + self.http.direct

    async def close(self) -> None:
        """Stop a held read that is learning the phase, and close the pooled connections."""
        learning = self._learning
        if learning is not None:
            learning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await learning
        await self.http.close()

    async def performance(self, timeout: float) -> Sample:
        """The latest sample (``GET /api/performance``) as its typed shape, revalidated with its ETag.

        When the next sample is due within moments (a tick aimed just before it, see
        :mod:`perfmon.ui.source.planner`), the read is held until the API publishes it (``?wait=``),
        within the budget: one held read per sample for all tabs.
        """
        expected = await self._expected(timeout)
        if expected is not None:
            return expected
        sample = await self._shared("performance", self._latest, timeout, self._until_next_sample)
        self._learn_phase(sample)
        try:
            hold = self.planner.hold(sample["instance_id"], float(sample["timestamp"]),
                                     float(sample["interval_seconds"]))
        except (KeyError, TypeError, ValueError):
            return sample
        wait = None if hold is None else min(hold, timeout - HOLD_RESERVE_SECONDS)
        if wait is None or wait <= 0:
            return sample
        seq = sample.get("seq")
        return await self._shared(("held", sample["instance_id"], seq), lambda budget: self._latest(
            budget, wait, seq), timeout, self._until_next_sample)

    async def _expected(self, timeout: float) -> Sample | None:
        """The sample due next, in one held read (``?after=&wait=``), when the planner knows it is due
        within moments of the newest one seen; None otherwise (the plain read then)."""
        seen = self._seen
        expected = None if seen is None else self.planner.expect(*seen)
        if seen is None or expected is None:
            return None
        after, hold = expected
        wait = min(hold, timeout - HOLD_RESERVE_SECONDS)
        if wait <= 0:
            return None
        return await self._shared(("after", seen[0], after), lambda budget: self._latest(
            budget, wait, after, by_seq=True), timeout, self._until_next_sample)

    async def _latest(self, budget: float, wait: float | None = None, after: Any = None, *,
                      by_seq: bool = False) -> Sample:
        """The latest sample; with ``wait``, held until one newer than the sample ``after`` (a seq):
        by the API's ``?after=`` with ``by_seq``, else while the cached ETag is the latest.

        The API's JSON is read as the typed shape it is documented to be; a field it lacks is a
        KeyError where it is read, which the tick reports as an unreadable answer.
        """
        answer = cast(Sample, await self.http.get_json("/api/performance", None, budget, conditional=True,
                                                         wait=wait, after=after if by_seq else None))
        with contextlib.suppress(KeyError, TypeError, ValueError):  # read as it arrives: the phase
            instance, seq = str(answer["instance_id"]), int(answer["seq"])
            self.planner.observe(instance, float(answer["timestamp"]),
                                 woken=wait is not None and after is not None and seq > int(after))
            self._see(instance, seq, float(answer["timestamp"]), float(answer["interval_seconds"]))
        return answer

    def _see(self, instance: str, seq: int, timestamp: float, interval: float) -> None:
        """Keep the newest sample seen (of the newest instance): what the next tick expects after."""
        seen = self._seen
        if seen is None or seen[0] != instance or seq > seen[1]:
            self._seen = (instance, seq, timestamp, interval)

    def _learn_phase(self, sample: Sample) -> None:
        """Until a held read of this API instance was answered at a publication, start one (once):
        within an interval the ticks of every tab come just after the samples."""
        instance = sample.get("instance_id")
        interval = sample.get("interval_seconds")
        if (self._learning is not None or not isinstance(instance, str) or self.planner.knows_phase(instance)
                or not isinstance(interval, (int, float)) or not 0 < interval <= MAX_LEARN_SECONDS):
            return
        held = self._held_read(float(interval), sample.get("seq"))
        self._learning = asyncio.get_running_loop().create_task(held)

    async def _held_read(self, interval: float, after: Any) -> None:
        try:
            await self._latest(interval + LEARN_SLACK_SECONDS + 1.0, wait=interval + LEARN_SLACK_SECONDS,
                               after=after)
        except ApiUnavailable:
            pass  # the ticks say so; the next tick tries again
        finally:
            self._learning = None

    async def processes(self, sort: str, limit: int, timeout: float) -> dict[str, Any]:
        """The latest process scan sorted by ``sort`` (``cpu`` or ``memory``), revalidated."""
        params = {"sort": sort, "limit": limit}
        return await self._shared(("processes", sort, limit), lambda budget: self.http.get_json(
            "/api/processes", params, budget, conditional=True), timeout, self._window)

    async def history_range(self, start: float, end: float, points: int, timeout: float) -> dict[str, Any]:
        """At most ``points`` equal buckets (mean, min, max) over [start, end) from ``/api/history``."""
        params = range_params(start, end, points)
        return await self._shared(("range", *params.values()), lambda budget: self.http.get_json(
            "/api/history", params, budget), timeout, self._window)

    async def history_series(self, selectors: Sequence[str], start: float, end: float, points: int,
                             timeout: float) -> dict[str, Any]:
        """The series ``selectors`` pick, over the same buckets as :meth:`history_range` (``series=``)."""
        params = {**range_params(start, end, points), "series": ",".join(selectors)}
        return await self._shared(("series", *params.values()), lambda budget: self.http.get_json(
            "/api/history", params, budget), timeout, self._window)

    async def history(self, since: int, limit: int, timeout: float, *, instance: str,
                      upto: int) -> dict[str, Any]:
        """The samples after ``since`` (at most ``limit``) up to the sample ``upto`` of ``instance``.

        Answered from the rows the server follows; those are extended by one shared read
        when a tab needs newer ones. Only a tab whose cursor is older than them is read alone.
        """
        if not self.recent.covers(instance, since, upto) and self.recent.can_extend(instance, since):
            await self._extend(timeout)
        if self.recent.covers(instance, since, upto):
            return self.recent.read(since, limit)
        answer = await self._shared(("tail", since, limit), lambda budget: self.http.get_json(
            "/api/history", {"since": since, "limit": limit}, budget), timeout, self._window)
        if answer["instance_id"] != self.recent.instance or self.recent.last is None:
            self.recent.add(answer, since)  # the first cursor read, or a new API instance
        return answer

    async def shared_json(self, key: Any, path: str, params: dict[str, Any] | None,
                          timeout: float) -> dict[str, Any]:
        """A GET of ``path`` that every tab shares for a window (``key`` names it)."""
        return await self._shared(key, lambda budget: self.http.get_json(path, params, budget), timeout,
                                  self._window)

    async def write(self, method: str, path: str, params: dict[str, Any] | None, body: Any,
                    timeout: float) -> dict[str, Any] | None:
        """A write for a signed-in user (a silence), alone: its answer's JSON, None for a 204."""
        return await self._noted(self.http.write(method, path, params, body, timeout))

    async def history_csv(self, start: float, end: float, points: int, timeout: float) -> str:
        """The range as a CSV document (``format=csv``), for a download: asked for alone."""
        params = {**range_params(start, end, points), "format": "csv"}
        return await self._noted(self.http.get_text("/api/history", params, timeout))

    async def _extend(self, timeout: float) -> None:
        since = self.recent.last
        assert since is not None  # can_extend said so

        async def fetch(budget: float) -> dict[str, Any]:
            answer = await self.http.get_json("/api/history", {"since": since, "limit": TAIL_READ}, budget)
            if self.recent.last == since:  # nobody extended it meanwhile
                self.recent.add(answer, since)
            return answer

        await self._shared(("extend", since), fetch, timeout, self._window)

    async def _shared(self, key: Any, fetch: Fetch[T], timeout: float, window: Callable[[Any], float]) -> T:
        try:
            return await self._noted(self.shared.get(key, fetch, timeout, window))
        except TimedOut:
            reason = f"no answer from {self.netloc} within {max(0.0, timeout):.1f} s"
            self._note_reachable(False, reason)
            raise ApiUnavailable(reason) from None

    async def _noted(self, request: Awaitable[T]) -> T:
        try:
            answer = await request
        except ApiStarting:
            raise
        except ApiUnavailable as exc:
            self._note_reachable(False, str(exc))
            raise
        self._note_reachable(True)
        return answer

    def _window(self, _outcome: Any) -> float:
        return self.window_seconds

    def _until_next_sample(self, outcome: Any) -> float:
        """Share a sample until the next one is due (within one window), a failure for a window."""
        if not isinstance(outcome, dict):
            return self.window_seconds
        try:
            due = float(outcome["timestamp"]) + float(outcome["interval_seconds"]) - self._wall()
        except (KeyError, TypeError, ValueError):
            return self.window_seconds
        floor = min(self.window_seconds, 0.1)  # a late sample (or skewed clocks): no flood
        return min(self.window_seconds, max(floor, due + NEXT_SAMPLE_MARGIN))

    def _note_reachable(self, reachable: bool, reason: str = "") -> None:
        """Log when the API becomes unavailable and when it is back, once each."""
        was, self._reachable = self._reachable, reachable
        if not reachable and was is not False:
            log.warning("API %s unavailable: %s (pages keep retrying; logged once)", self.base_url, reason)
        elif reachable and was is False:
            log.info("API %s answers again", self.base_url)

