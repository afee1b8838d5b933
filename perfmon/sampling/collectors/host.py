"""Hostname, OS and uptime.

``{"hostname": "box", "platform": "Linux 6.1.0", "boot_time": 1795639339.0, "uptime_seconds": 661.1}``
"""

from __future__ import annotations

import platform
import time
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Clock, Note, read_field

# The boot time moves only when the wall clock is set; reading it is a whole /proc/stat, so it is
# read once a minute (a failed read is tried again on the next sample).
BOOT_TIME_SECONDS = 60.0


class HostCollector:
    """Hostname, OS and uptime."""

    name = "host"
    section = "host"

    def __init__(self, ps: ModuleType, *, clock: Clock = time.time,
                 monotonic: Clock = time.monotonic) -> None:
        self._ps = ps
        self._clock = clock
        self._monotonic = monotonic
        self._boot: tuple[float, float] | None = None  # when read (monotonic), and the boot time
        uname = platform.uname()
        self._platform = f"{uname.system} {uname.release}".strip() or None

    def collect(self, note: Note) -> dict[str, Any]:
        """Read hostname, platform, boot time and uptime."""
        boot_time = self._boot_time(note)
        return {
            "hostname": platform.node() or None,
            "platform": self._platform,
            "boot_time": boot_time,
            "uptime_seconds": None if boot_time is None else round(self._clock() - boot_time, 1),
        }

    def _boot_time(self, note: Note) -> float | None:
        now, kept = self._monotonic(), self._boot
        if kept is not None and now - kept[0] < BOOT_TIME_SECONDS:
            return kept[1]
        boot_time: float | None = read_field(note, "boot_time", self._ps.boot_time, self._ps)
        self._boot = None if boot_time is None else (now, boot_time)
        return boot_time
