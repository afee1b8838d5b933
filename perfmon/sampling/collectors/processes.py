"""The process table: the expensive group, scanned on its own slower cadence.

One row per process: ``{"pid": 42, "name": "python3", "username": "root", "status": "running",
"cpu_percent": 2.0, "memory_percent": 0.17, "memory_rss_bytes": ..., "num_threads": 4, "create_time": ...}``.
Command lines and environments are never read (only a program's name, where the kernel cut it).
On Linux the table is read from /proc directly (perfmon.sampling.collectors.procfs: the same
fields at about a fifth of psutil's CPU); elsewhere, or with another ``ps`` (tests' fakes), through
psutil's ``process_iter``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import round_or_none
from perfmon.sampling.collectors.procfs import ProcfsProcesses

PROCESS_ATTRS = (
    "pid", "name", "username", "status", "cpu_percent", "memory_percent",
    "memory_info", "num_threads", "create_time",
)
TOP_PROCESSES = 5


class ProcessCollector:
    """The process table: the expensive group, scanned on its own slower cadence."""

    name = "processes"

    def __init__(self, ps: ModuleType, procfs: ProcfsProcesses | None = None) -> None:
        self._ps = ps
        self._seen: set[tuple[int, float | None]] = set()
        self._procfs = procfs
        self._procfs_checked = procfs is not None

    def _reader(self) -> ProcfsProcesses | None:
        """The /proc reader for the real psutil on Linux, made on the first scan; None otherwise."""
        if not self._procfs_checked:
            self._procfs_checked = True
            if getattr(self._ps, "LINUX", False) is True and os.path.exists("/proc/self/stat"):
                self._procfs = ProcfsProcesses(self._ps.boot_time(), self._ps.virtual_memory().total)
        return self._procfs

    def prime(self) -> None:
        """Start psutil's per-process CPU deltas."""
        self.scan()

    def scan(self) -> list[dict[str, Any]]:
        """One row per live process; cpu_percent is None for a process seen for the first time."""
        procfs = self._reader()
        if procfs is not None:
            return procfs.scan()
        rows = []
        seen: set[tuple[int, float | None]] = set()
        for proc in self._ps.process_iter(attrs=list(PROCESS_ATTRS), ad_value=None):
            info = proc.info
            key = (info["pid"], info["create_time"])
            seen.add(key)
            cpu = info["cpu_percent"] if key in self._seen else None  # psutil's first read is 0.0
            mem = info["memory_info"]
            rows.append({
                "pid": info["pid"],
                "name": info["name"],
                "username": info["username"],
                "status": info["status"],
                "cpu_percent": round_or_none(cpu),
                "memory_percent": round_or_none(info["memory_percent"], 2),
                "memory_rss_bytes": None if mem is None else mem.rss,
                "num_threads": info["num_threads"],
                "create_time": info["create_time"],
            })
        self._seen = seen
        return rows


def top_by(rows: Iterable[Mapping[str, Any]], field: str, limit: int) -> list[Mapping[str, Any]]:
    """The ``limit`` rows with the highest ``field``, unknown values last."""
    return sorted(rows, key=lambda r: (r[field] is not None, r[field] or 0), reverse=True)[:limit]


