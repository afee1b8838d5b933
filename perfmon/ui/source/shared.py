"""Answers shared by every tab: one request per key at a time, its outcome kept for a window.

However many tabs poll, the dashboard server asks the API once per resource per window:
a tab that needs an answer another tab is already waiting for joins that request, and an
answer (or a failure) is reused until its window ends. So a hung API costs every tab one
shared budget, not one each, and 50 tabs cost the API what one does.

A joining tab waits at most its own budget: the request keeps going for the others
(``asyncio.shield``), and the tab reports the timeout in its own words.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Fetch = Callable[[float], Awaitable[T]]  # called with the budget (seconds) the request may take
Window = Callable[[Any], float]  # seconds an outcome (an answer or an exception) stays usable
MAX_KEYS = 64  # outcomes kept: old keys (ranges a tab asked for once) are forgotten first


@dataclass
class Entry(Generic[T]):
    """One key's request in flight, or its outcome until ``until`` (monotonic seconds)."""

    task: asyncio.Future[T]
    until: float = field(default=float("inf"))  # set when the outcome is known


class TimedOut(Exception):
    """A joining tab's own budget ended before the shared request did."""


class SharedAnswers:
    """Coalesces requests by key on one event loop."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._entries: dict[Any, Entry[Any]] = {}
        self.requests = 0  # how many requests were really made: for tests and benchmarks

    async def get(self, key: Any, fetch: Fetch[T], budget: float, window: Window) -> T:
        """The outcome for ``key``: a fresh one, the request in flight, or a new request.

        Raises what the request raised, or TimedOut when ``budget`` ends first.
        """
        entry: Entry[T] | None = self._entries.get(key)
        if entry is None or (entry.task.done() and self._monotonic() >= entry.until):
            entry = self._start(key, fetch, budget, window)
        if not entry.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(entry.task), max(0.0, budget))
            except TimeoutError:
                raise TimedOut from None
        return entry.task.result()

    def _start(self, key: Any, fetch: Fetch[T], budget: float, window: Window) -> Entry[T]:
        self.requests += 1
        task: asyncio.Future[T] = asyncio.ensure_future(fetch(budget))
        entry: Entry[T] = Entry(task)
        self._entries.pop(key, None)
        self._entries[key] = entry  # last in the dict: the newest
        while len(self._entries) > MAX_KEYS:
            oldest = next(iter(self._entries))
            if not self._entries[oldest].task.done():
                break
            del self._entries[oldest]

        def settled(done: asyncio.Future[T]) -> None:
            outcome = done.exception() if not done.cancelled() else None
            entry.until = self._monotonic() + window(outcome if outcome is not None else
                                                     None if done.cancelled() else done.result())

        task.add_done_callback(settled)
        return entry
