"""Rates from cumulative counters, computed over the real elapsed time between readings.

A rate needs two readings, so the first is ``None``, never 0. A counter that goes
down (a reset, a wrap, a device replaced under the same name) yields no rate for
that interval instead of a negative or absurd one; a device that appears is counted
from its second reading on; a device that disappears simply drops out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

Counters = Mapping[str, tuple[int, ...]]
Rates = tuple[float | None, ...]


class CounterRates:
    """Turns per-device cumulative counters into per-device and total per-second rates."""

    def __init__(self, width: int) -> None:
        self._width = width
        self._previous: Counters | None = None
        self._previous_time = 0.0
        self.last: dict[str, tuple[float, ...]] = {}  # per-device rates of the latest update

    def update(
        self,
        counters: Counters,
        now: float,
        note: Callable[[str], None],
        exclude_from_total: Collection[str] = (),
    ) -> Rates:
        """Record a reading taken at ``now`` (monotonic seconds); return the total rates."""
        previous, previous_time = self._previous, self._previous_time
        self._previous, self._previous_time = dict(counters), now
        self.last = {}
        unknown: Rates = (None,) * self._width
        if previous is None:
            return unknown
        elapsed = now - previous_time
        if elapsed <= 0:
            note("the clock did not advance between readings: rates skipped")
            return unknown
        complete = self._device_rates(counters, previous, elapsed, note, exclude_from_total)
        counted = [rates for name, rates in self.last.items() if name not in exclude_from_total]
        if not complete:
            return unknown
        if not counted:
            note("no device to measure")
            return unknown
        return tuple(sum(column) for column in zip(*counted, strict=True))

    def _device_rates(self, counters: Counters, previous: Counters, elapsed: float,
                      note: Callable[[str], None], exclude_from_total: Collection[str]) -> bool:
        """Fill ``last`` with each device's rates; False if a counted device went backwards."""
        complete = True
        for name, values in counters.items():
            before = previous.get(name)
            if before is None:
                continue  # new device: its counters since boot are not a rate
            deltas = [now_value - old for now_value, old in zip(values, before, strict=True)]
            if any(d < 0 for d in deltas):
                note(f"counters of {name} went backwards (reset or wrap): rate skipped this interval")
                complete = complete and name in exclude_from_total
                continue
            self.last[name] = tuple(d / elapsed for d in deltas)
        return complete
