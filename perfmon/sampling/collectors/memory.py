"""Physical memory and swap: ``{"total_bytes": ..., "available_bytes": ..., "percent": 1.1}``.

Memory on Linux is three lines of ``/proc/meminfo`` (``MemTotal``, ``MemFree``, ``MemAvailable``)
with psutil's arithmetic (``used`` is total less available, as ``free`` counts it); psutil's
``virtual_memory`` parses every line into a dict and works out seven more figures the sample does
not carry (71 us a read here, 22 this way). Where the kernel has no ``MemAvailable`` (before 3.14)
or says 0 (a kernel bug, psutil issue 1915), psutil's estimate is taken.

Swap on Linux is two lines of ``/proc/meminfo`` (``SwapTotal``, ``SwapFree``, in KiB), read here
with psutil's arithmetic: psutil's ``swap_memory`` also parses all of ``/proc/vmstat`` (4 KB, for
the pages swapped in and out, which the sample does not carry), three quarters of its time. Where
there is no ``/proc/meminfo`` (not Linux), psutil answers.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Note
from perfmon.sampling.collectors.kernel_files import readable

KIB = 1024
MEMORY_LINES = (b"\nMemTotal:", b"\nMemFree:", b"\nMemAvailable:")


class MemoryCollector:
    """Physical memory."""

    name = "memory"
    section = "memory"

    def __init__(self, ps: ModuleType, meminfo: str | Path | None = None) -> None:
        self._ps = ps
        self._meminfo = readable(ps, meminfo)  # read directly with the real psutil on Linux

    def collect(self, note: Note) -> dict[str, Any]:
        """Read MemTotal, MemFree and MemAvailable with psutil's arithmetic (its virtual_memory()
        elsewhere, and where the kernel gives no usable MemAvailable: psutil then estimates it)."""
        if self._meminfo is not None:
            total, free, available = meminfo_numbers(self._meminfo, MEMORY_LINES)
            if available > 0:
                available = free if available > total else available  # psutil: an LXC container's view
                used = total - available
                return {"total_bytes": total, "available_bytes": available, "used_bytes": used,
                        "free_bytes": free, "percent": round(used / total * 100, 1) if total else 0.0}
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

    def __init__(self, ps: ModuleType, meminfo: str | Path | None = "/proc/meminfo") -> None:
        self._ps = ps
        self._meminfo = str(meminfo) if meminfo is not None and os.path.exists(meminfo) else None

    def collect(self, note: Note) -> dict[str, Any]:
        """Read SwapTotal and SwapFree (psutil's swap_memory() where there is no /proc/meminfo)."""
        if self._meminfo is None:
            sw = self._ps.swap_memory()
            total, used, free, percent = sw.total, sw.used, sw.free, sw.percent
        else:
            total, free = meminfo_numbers(self._meminfo, (b"\nSwapTotal:", b"\nSwapFree:"))
            used = total - free
            percent = round(used / total * 100, 1) if total else 0.0  # psutil's usage_percent
        if not total:
            note("no swap space is configured: percent is undefined")
            percent = None
        return {"total_bytes": total, "used_bytes": used, "free_bytes": free, "percent": percent}


def meminfo_numbers(path: str, labels: tuple[bytes, ...]) -> list[int]:
    """The values of ``labels`` (each a newline and a name with its colon) in bytes; 0 for one missing
    (a kernel built without swap has no Swap lines: psutil reads 0 then too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        text = b"\n" + os.read(fd, 65536)
    finally:
        os.close(fd)
    numbers = []
    for label in labels:
        at = text.find(label)
        numbers.append(0 if at < 0 else int(text[at + len(label):text.find(b"\n", at + 1)].split()[0]) * KIB)
    return numbers
