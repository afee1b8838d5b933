"""The process scan as an ordinary collector: the sample's top five, and the whole table for /api/processes.

The registry runs it like any other collector, on its own cadence (``--process-interval``), so
the sampler knows nothing of processes: between scans every sample keeps the last scan's
section, whose ``sampled_at`` says how old it is. A failed scan is a table with an ``error``
(``/api/processes`` says why) and a null ``count``.
"""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Clock, Note, WithTable, describe_error
from perfmon.sampling.collectors.processes import TOP_PROCESSES, ProcessCollector, top_by
from perfmon.sampling.snapshot import ProcessTable

TOP_CPU_KEYS = ("pid", "name", "cpu_percent", "memory_percent")


class ProcessScan:
    """Scans the process table; its section is the count and the top processes by CPU."""

    name = "processes"
    section = "processes"

    def __init__(self, ps: ModuleType, *, clock: Clock = time.time,
                 scanner: ProcessCollector | None = None) -> None:
        self._ps = ps
        self._clock = clock
        self._scanner = scanner or ProcessCollector(ps)
        self._scan_seq = 0

    def prime(self) -> None:
        """Start psutil's per-process CPU deltas."""
        self._scanner.prime()

    def collect(self, note: Note) -> WithTable:
        """Scan once: the section for the sample, the table for /api/processes."""
        self._scan_seq += 1
        sampled_at = round(self._clock(), 3)
        try:
            rows = self._scanner.scan()
        except Exception as exc:  # noqa: BLE001 - reported in the table and in every sample until the next scan
            error = describe_error(exc, self._ps)
            note(error)
            table = ProcessTable(self._scan_seq, sampled_at, [], error)
            return WithTable({"count": None, "sampled_at": sampled_at, "top_cpu": None}, table)
        table = ProcessTable(self._scan_seq, sampled_at, rows)
        top = top_by(rows, "cpu_percent", TOP_PROCESSES)
        section: dict[str, Any] = {"count": table.count, "sampled_at": sampled_at,
                                   "top_cpu": [{k: p[k] for k in TOP_CPU_KEYS} for p in top]}
        return WithTable(section, table)
