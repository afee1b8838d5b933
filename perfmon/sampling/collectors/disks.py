"""Disks: usage per mounted filesystem, and I/O counters and rates of whole disks.

``[{"mountpoint": "/", "device": "/dev/vda", "fstype": "ext4", "percent": 21.3, ...}]`` and
``{"read_bytes_per_s": 0.0, "write_bytes_per_s": 12288.0, "read_ops_per_s": 0.0, "write_ops_per_s": 3.0,
"devices": [{"name": "vda", "read_bytes_total": 912345088, "write_bytes_total": 5012340736, ...}]}``
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from perfmon.core.rates import CounterRates
from perfmon.sampling.collectors.base import Clock, Note, describe_error, round_or_none
from perfmon.sampling.collectors.kernel_files import read_disk_counters, readable

# Read-only images (snaps, live media) are always 100 % full: listing them is noise.
IGNORED_FSTYPES = frozenset({"squashfs", "iso9660", "udf"})
class DiskUsageCollector:
    """Usage of each real, mounted filesystem (one row per device)."""

    name = "disks"
    section = "disks"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> list[dict[str, Any]]:
        """Read disk_partitions() and disk_usage() per mountpoint."""
        rows: list[dict[str, Any]] = []
        for part in self._mounts(self._ps.disk_partitions(all=False)):
            try:
                usage = self._ps.disk_usage(part.mountpoint)
            except OSError as exc:  # unmounted meanwhile, permission, stale NFS handle
                note(f"{part.mountpoint}: {describe_error(exc, self._ps)}")
                continue
            rows.append({
                "mountpoint": part.mountpoint,
                "device": part.device,
                "fstype": part.fstype,
                "total_bytes": usage.total,
                "used_bytes": usage.used,
                "free_bytes": usage.free,
                "percent": usage.percent,
            })
        return rows

    @staticmethod
    def _mounts(partitions: Iterable[Any]) -> list[Any]:
        """One mount per device, the shortest mountpoint: bind mounts repeat the same usage."""
        chosen: dict[str, Any] = {}
        for part in partitions:
            if part.fstype in IGNORED_FSTYPES:
                continue
            best = chosen.get(part.device)
            if best is None or len(part.mountpoint) < len(best.mountpoint):
                chosen[part.device] = part
        return sorted(chosen.values(), key=lambda p: p.mountpoint)


# Not disks of their own (node_exporter leaves the same out): a loop device's I/O is also counted on
# the disk under its backing file, and RAM disks (zram too) are memory, not storage.
NOT_A_DISK = re.compile(r"(z?ram|loop|fd)[0-9]+")


def is_whole_disk(name: str, sys_block: str = "/sys/block") -> bool:
    """True for a whole, real disk: a partition would count twice with its disk, as a loop device would."""
    if NOT_A_DISK.fullmatch(name):
        return False
    if not os.path.isdir(sys_block):  # not Linux: psutil lists whole disks only
        return True
    return os.path.exists(os.path.join(sys_block, name.replace("/", "!")))


class DiskIOCollector:
    """Disk throughput and operations per second, summed over whole disks."""

    name = "disk_io"
    section = "disk_io"
    FIELDS = ("read_bytes", "write_bytes", "read_count", "write_count")

    def __init__(
        self, ps: ModuleType, *, monotonic: Clock = time.monotonic,
        whole_disk: Callable[[str], bool] = is_whole_disk, diskstats: str | Path | None = None,
    ) -> None:
        self._ps = ps
        self._monotonic = monotonic
        self._whole_disk = whole_disk
        self._diskstats = readable(ps, diskstats)  # read directly with the real psutil on Linux
        self._is_whole: dict[str, bool] = {}  # a name's kind never changes: stat it once
        self._rates = CounterRates(len(self.FIELDS))

    def collect(self, note: Note) -> dict[str, Any]:
        """Read per-disk counters and turn their deltas into rates."""
        # the kernel's counters as they are, resets and all (see NetworkCollector.collect)
        if self._diskstats is not None:
            per_disk: dict[str, Any] = read_disk_counters(self._diskstats)
        else:
            per_disk = self._ps.disk_io_counters(perdisk=True, nowrap=False) or {}
        now = self._monotonic()
        for name in per_disk.keys() - self._is_whole.keys():
            self._is_whole[name] = self._whole_disk(name)
        counters = {
            name: tuple(getattr(c, f) for f in self.FIELDS)
            for name, c in per_disk.items() if self._is_whole[name]
        }
        totals = self._rates.update(counters, now, note)
        names = ("read_bytes_per_s", "write_bytes_per_s", "read_ops_per_s", "write_ops_per_s")
        section: dict[str, Any] = {n: round_or_none(v) for n, v in zip(names, totals, strict=True)}
        section["devices"] = [device_row(name, per_disk[name], self._rates.last.get(name))
                              for name in sorted(counters)]
        return section


def device_row(name: str, counters: Any, rates: tuple[float, ...] | None = None) -> dict[str, Any]:
    """A whole disk's rates (None until its second reading) and counters since boot (busy time only where
    the platform counts it)."""
    busy_ms = getattr(counters, "busy_time", None)
    read, write = (None, None) if rates is None else (round(rates[0], 1), round(rates[1], 1))
    return {"name": name, "read_bytes_per_s": read, "write_bytes_per_s": write,
            "read_bytes_total": counters.read_bytes, "write_bytes_total": counters.write_bytes,
            "read_ops_total": counters.read_count, "write_ops_total": counters.write_count,
            "busy_seconds_total": None if busy_ms is None else busy_ms / 1000}


