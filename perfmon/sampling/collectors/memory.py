"""Physical memory and swap: ``{"total_bytes": ..., "available_bytes": ..., "percent": 1.1}``."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Note


class MemoryCollector:
    """Physical memory."""

    name = "memory"
    section = "memory"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read virtual_memory()."""
        vm = self._ps.virtual_memory()
        return {
            "total_bytes": vm.total,
            "available_bytes": vm.available,
            "used_bytes": vm.used,
            "free_bytes": vm.free,
            "percent": vm.percent,
        }


class SwapCollector:
    """Swap space; with none configured, its percent is undefined, not 0."""

    name = "swap"
    section = "swap"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read swap_memory()."""
        sw = self._ps.swap_memory()
        percent = sw.percent
        if not sw.total:
            note("no swap space is configured: percent is undefined")
            percent = None
        return {"total_bytes": sw.total, "used_bytes": sw.used, "free_bytes": sw.free, "percent": percent}


