"""CPU: utilisation (total, per core, per mode), core counts, load and frequency.

``{"percent": 3.5, "per_cpu_percent": [4.0, 3.0], "count_logical": 2, "count_physical": 2,
"load_average": [0.15, 0.1, 0.04], "frequency_mhz": 2600.0, "times_percent": {"user": 2.0, ...},
"per_cpu_seconds_total": [{"user": 5120.31, "idle": 90210.5, ...}, ...]}``
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Note, read_field


class CpuCollector:
    """Total and per-core utilisation, time split and core counts."""

    name = "cpu"
    section = "cpu"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        self._count_logical: int | None = None
        self._count_physical: int | None = None
        self._count_notes: list[str] | None = None  # None until the counts were read

    def prime(self) -> None:
        """Start psutil's utilisation deltas so the first published value is real."""
        self._ps.cpu_percent(interval=None)
        self._ps.cpu_percent(interval=None, percpu=True)
        self._ps.cpu_times_percent(interval=None)

    def collect(self, note: Note) -> dict[str, Any]:
        """Read utilisation since the previous call and the core counts."""
        ps = self._ps
        times = read_field(note, "times_percent", lambda: ps.cpu_times_percent(interval=None), ps)
        counts = self._counts(note)
        return {
            "percent": read_field(note, "percent", lambda: ps.cpu_percent(interval=None), ps),
            "per_cpu_percent": read_field(
                note, "per_cpu_percent", lambda: ps.cpu_percent(interval=None, percpu=True), ps
            ),
            "count_logical": counts[0],
            "count_physical": counts[1],
            "times_percent": None if times is None else dict(times._asdict()),
            "per_cpu_seconds_total": read_field(note, "per_cpu_seconds_total", self._seconds, ps),
        }

    def _seconds(self) -> list[dict[str, float]]:
        """CPU seconds per mode of each logical CPU since boot: the kernel's counters, as read."""
        return [{mode: round(value, 2) for mode, value in times._asdict().items()}
                for times in self._ps.cpu_times(percpu=True)]

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


