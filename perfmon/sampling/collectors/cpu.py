"""CPU: utilisation (total, per core, per mode), core counts, load and frequency.

``{"percent": 3.5, "per_cpu_percent": [4.0, 3.0], "count_logical": 2, "count_physical": 2,
"load_average": [0.15, 0.1, 0.04], "frequency_mhz": 2600.0, "times_percent": {"user": 2.0, ...},
"per_cpu_seconds_total": [{"user": 5120.31, "idle": 90210.5, ...}, ...]}``

Every figure comes from one reading a sample of the machine's and each CPU's times (``cpu_times()``
and ``cpu_times(percpu=True)``; on Linux one read of ``/proc/stat`` for both, see
``kernel_files``), and the deltas since the previous sample's, with psutil's arithmetic
(``busy_percent``, ``mode_percents``).
psutil's own ``cpu_percent``, ``cpu_percent(percpu=True)`` and ``cpu_times_percent`` each read
``/proc/stat`` again (four reads a sample, 0.39 ms of a cold sample's CPU; now two), and they keep
the previous reading per *thread*: when the crew moves on to a new thread (a stalled collector keeps
the old one), each of them would answer 0.0 for one sample, a figure no one measured. Here the
previous reading is the collector's. One difference from psutil, on purpose: its mode percentages
divide by ``max(1, delta)`` seconds, so below a second of CPU time (``--interval 0.5`` on one core)
they come out too small; here they divide by the delta itself.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from perfmon.sampling.collectors.base import Note, read_field
from perfmon.sampling.collectors.kernel_files import read_cpu_times, readable

NOT_WORK = ("idle", "iowait")  # psutil: iowait is not counted in idle on Linux, and is not work either
COUNTED_TWICE = ("guest", "guest_nice")  # Linux counts guest time in user and nice as well


class CpuTimes(NamedTuple):
    """One sample's readings: the whole machine's CPU times and each logical CPU's (None if unread)."""

    total: Any
    per_cpu: Sequence[Any] | None


@functools.cache
def _positions(modes: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Where the modes that are not work, and those counted twice, are in a reading of these modes."""
    return (tuple(k for k, m in enumerate(modes) if m in NOT_WORK),
            tuple(k for k, m in enumerate(modes) if m in COUNTED_TWICE))


def _deltas(before: Any, after: Any) -> tuple[list[float], float]:
    """Each mode's seconds between two readings, trimmed at 0 (psutil: the kernel's can go back), and
    their total (each second counted once)."""
    deltas = [d if (d := new - old) > 0 else 0.0 for old, new in zip(before, after, strict=True)]
    return deltas, sum(deltas) - sum(deltas[k] for k in _positions(after._fields)[1])


def busy_percent(before: Any, after: Any) -> float:
    """psutil's ``cpu_percent`` between two ``cpu_times`` readings: the share not idle nor waiting."""
    deltas, total = _deltas(before, after)
    if not total:
        return 0.0
    return round((total - sum(deltas[k] for k in _positions(after._fields)[0])) / total * 100, 1)


def mode_percents(before: Any, after: Any) -> dict[str, float]:
    """psutil's ``cpu_times_percent`` between two readings, as a dict (each mode's share, 0-100)."""
    deltas, total = _deltas(before, after)
    scale = 100.0 / total if total > 0 else 0.0
    return {mode: min(max(0.0, round(delta * scale, 1)), 100.0) for mode, delta in zip(after._fields, deltas,
                                                                                       strict=True)}


class CpuCollector:
    """Total and per-core utilisation, time split and core counts."""

    name = "cpu"
    section = "cpu"

    def __init__(self, ps: ModuleType, stat: str | Path | None = None) -> None:
        self._ps = ps
        self._count_logical: int | None = None
        self._count_physical: int | None = None
        self._count_notes: list[str] | None = None  # None until the counts were read
        self._previous = CpuTimes(None, None)
        # /proc/stat read once a sample, for both readings, with the real psutil on Linux
        self._stat = readable(ps, stat)
        if self._stat is not None:  # psutil's named tuple of this kernel's modes, and its tick
            self._times_type, self._ticks = type(ps.cpu_times()), os.sysconf("SC_CLK_TCK")

    def prime(self) -> None:
        """Take the first readings, so that the first published shares are real."""
        unread: list[str] = []  # a failure here is the first sample's to report
        self._previous = self._read(unread.append)

    def _read(self, note: Note) -> CpuTimes:
        ps, stat = self._ps, self._stat
        if stat is not None:
            both = read_field(note, "percent, times_percent, per_cpu_percent, per_cpu_seconds_total",
                              lambda: read_cpu_times(stat, self._times_type, self._ticks), ps)
            return CpuTimes(None, None) if both is None else CpuTimes(*both)
        return CpuTimes(read_field(note, "percent, times_percent", ps.cpu_times, ps),
                        read_field(note, "per_cpu_percent, per_cpu_seconds_total",
                                   lambda: ps.cpu_times(percpu=True), ps))

    def collect(self, note: Note) -> dict[str, Any]:
        """Read the times, and the shares since the previous reading; the core counts."""
        before, now = self._previous, self._read(note)
        self._previous = now
        counts = self._counts(note)
        total = None
        if now.total is not None and before.total is None:
            note("percent, times_percent: no earlier reading yet (a share needs two)")
        elif now.total is not None:
            total = before.total
        return {
            "percent": None if total is None else busy_percent(total, now.total),
            "per_cpu_percent": self._per_cpu(before.per_cpu, now.per_cpu, note),
            "count_logical": counts[0],
            "count_physical": counts[1],
            "times_percent": None if total is None else mode_percents(total, now.total),
            "per_cpu_seconds_total": None if now.per_cpu is None else [
                dict(zip(times._fields, [round(value, 2) for value in times], strict=True))
                for times in now.per_cpu],
        }

    @staticmethod
    def _per_cpu(before: Sequence[Any] | None, now: Sequence[Any] | None, note: Note) -> list[float] | None:
        if now is None:
            return None
        if before is None or len(before) != len(now):
            note("per_cpu_percent: no earlier reading yet (a share needs two)" if before is None else
                 f"per_cpu_percent: the number of CPUs changed ({len(before)} -> {len(now)}): "
                 "from the next sample")
            return None
        return [busy_percent(old, new) for old, new in zip(before, now, strict=True)]

    def _counts(self, note: Note) -> tuple[int | None, int | None]:
        """Core counts never change while we run: read once, then repeat the values and reasons."""
        if self._count_notes is None:
            notes: list[str] = []
            self._count_logical = read_field(notes.append, "count_logical", self._ps.cpu_count, self._ps)
            self._count_physical = read_field(
                notes.append, "count_physical", lambda: self._ps.cpu_count(logical=False), self._ps
            )
            if self._count_physical is None and not any(n.startswith("count_physical") for n in notes):
                notes.append("count_physical: the platform does not report physical cores")
            self._count_notes = notes
        for message in self._count_notes:
            note(message)
        return self._count_logical, self._count_physical


class LoadCollector:
    """1, 5 and 15 minute load averages."""

    name = "load_average"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read the load averages."""
        return {"load_average": [round(x, 2) for x in self._ps.getloadavg()]}


class CpuFrequencyCollector:
    """Current CPU frequency."""

    name = "cpu_frequency"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read the current frequency in MHz."""
        freq = self._ps.cpu_freq()
        if freq is None or not freq.current:
            note("the platform does not report a CPU frequency")
            return {"frequency_mhz": None}
        return {"frequency_mhz": round(freq.current, 1)}


