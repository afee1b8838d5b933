"""When a tab should poll next: just after the API publishes a sample, not on a timer of its own.

``dcc.Interval`` ticks on the browser's clock, blind to the sampler: at a poll interval equal
to the sampling interval it phase-locks anywhere, at worst just before each sample, so the
page always shows a sample almost a whole interval old. The dashboard server instead tells
each tab, with every view, how long to wait before its next tick (a delay, never a time of
day: the browser's clock plays no part), and the browser sets its timer from that.

The server works out when the API publishes from what it sees, in its own monotonic time:
a sample taken at ``timestamp`` (the API's wall clock) that arrived at ``received`` gives
``received - timestamp``, the offset between the two clocks plus that answer's delay. The
smallest offset of the recent answers is the one with the least delay (an answer to a
long-poll, woken as the sample was published), so ``timestamp + offset`` says when a sample
became visible here, whatever the API's clock says: skewed by a day, it is just a large offset.

The next tick is due a whole number of sampling intervals after the newest sample, the poll
interval rounded to them (at least one), unless that is more than 1.5 polls (or a second)
away: with samples far apart (a minute, say), ticks keep the poll interval, for the badge and
the process table, until the next sample is due within it. It aims a little early, and the server holds a tick
that finds no new sample yet until the next one is published (``hold``): the answer to that
held read arrives as the sample is published, the least delayed of all, so the estimate
settles on the true phase within a few ticks however late the first answers came. A
sample that is late (its successor should have been seen already) or an API that restarted
(a new ``instance_id``: its samples start afresh) falls back to the plain poll interval, so
the page neither stalls nor floods; the estimate is kept per API instance.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

OBSERVATIONS = 32  # recent answers whose least delay estimates the offset (drift ages out)
EARLY_SECONDS = 0.1  # ticks aim this long before a sample is due (at most a quarter interval) ...
HOLD_SLACK_SECONDS = 0.15  # ... and the server holds them until it is published, this much late at most
MIN_DELAY_SECONDS = 0.05  # never schedule a tick sooner than this after a view
MAX_STRETCH = 1.5  # an aligned tick may come this many poll intervals after the last, no later ...
STRETCH_FLOOR_SECONDS = 1.0  # ... or this long: a poll shorter than the sampling rounds up to it


@dataclass(frozen=True, slots=True)
class Plan:
    """The next tick: in how many seconds, and whether it is aligned to the sampler."""

    delay: float
    aligned: bool


class TickPlanner:
    """Learns when the API publishes, and plans ticks just after its samples."""

    def __init__(self, poll_seconds: float, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.poll_seconds = poll_seconds
        self._monotonic = monotonic
        self._instance: str | None = None
        self._offsets: deque[float] = deque(maxlen=OBSERVATIONS)
        self._woken = False

    @property
    def offset(self) -> float | None:
        """The least delayed ``received - timestamp`` seen of this API instance, or None."""
        return min(self._offsets) if self._offsets else None

    def observe(self, instance_id: str, timestamp: float, received: float | None = None, *,
                woken: bool = False) -> None:
        """Note a sample of ``instance_id`` taken at ``timestamp`` (API clock), received now (or then).

        ``woken``: the answer to a held read, sent as the sample was published: the phase itself.
        """
        if instance_id != self._instance:  # a restarted API: its phase and its clock may differ
            self._instance = instance_id
            self._offsets.clear()
            self._woken = False
        self._offsets.append((self._monotonic() if received is None else received) - timestamp)
        self._woken = self._woken or woken

    def knows_phase(self, instance_id: str) -> bool:
        """Whether a held read of ``instance_id`` was answered at a publication (else: learn it)."""
        return self._woken and instance_id == self._instance

    def plan(self, instance_id: str | None, timestamp: float | None, interval: float | None) -> Plan:
        """The next tick of a tab that shows the sample taken at ``timestamp`` of ``instance_id``."""
        offset = self.offset
        plain = Plan(self.poll_seconds, aligned=False)
        if (offset is None or instance_id != self._instance or timestamp is None
                or interval is None or interval <= 0):
            return plain
        step = interval * max(1, round(self.poll_seconds / interval))
        due = timestamp + offset + step - early(interval) - self._monotonic()
        if due < -interval:  # the sample after it should have been here long since: late or gone
            return plain
        while due < MIN_DELAY_SECONDS:  # the tab is behind by a sample or so: the next one due
            due += interval
        if due > max(MAX_STRETCH * self.poll_seconds, STRETCH_FLOOR_SECONDS):  # samples far apart:
            return plain  # the badge and processes follow the poll, until a sample is due within it
        return Plan(due, aligned=True)

    def hold(self, instance_id: str, timestamp: float, interval: float) -> float | None:
        """How long to hold a tick that found no sample newer than ``timestamp``: until the next is
        due, and a little more; None when that is unknown or not soon (the tick came early)."""
        offset = self.offset
        if offset is None or instance_id != self._instance or interval <= 0:
            return None
        due = timestamp + offset + interval - self._monotonic()
        if not -interval < due <= early(interval) + HOLD_SLACK_SECONDS:
            return None
        return max(0.0, due) + HOLD_SLACK_SECONDS


    def expect(self, instance_id: str, seq: int, timestamp: float,
               interval: float) -> tuple[int, float] | None:
        """For a tick whose newest sample seen is ``seq``, taken at ``timestamp``: the seq after which
        the next sample comes and how long to hold a read for it (``?after=&wait=``), so one request
        answers it as it is published; None when the phase is unknown or that sample is not due
        within a hold (the tick came early or late: a plain read, then maybe :meth:`hold`)."""
        offset = self.offset
        if offset is None or instance_id != self._instance or interval <= 0:
            return None
        elapsed = max(0.0, self._monotonic() - (timestamp + offset))  # since ``seq`` was visible here
        ahead = int(elapsed // interval) + 1  # the next sample not yet due, counted from ``seq``
        due = ahead * interval - elapsed
        if due > early(interval) + HOLD_SLACK_SECONDS:
            return None
        return seq + ahead - 1, due + HOLD_SLACK_SECONDS


def early(interval: float) -> float:
    """How long before a sample is due a tick aims to arrive."""
    return min(EARLY_SECONDS, interval / 4)
