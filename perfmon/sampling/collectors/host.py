"""Hostname, OS and uptime.

``{"hostname": "box", "platform": "Linux 6.1.0", "boot_time": 1795639339.0, "uptime_seconds": 661.1}``
"""

from __future__ import annotations

import platform
import time
from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Clock, Note, read_field


class HostCollector:
    """Hostname, OS and uptime."""

    name = "host"
    section = "host"

    def __init__(self, ps: ModuleType, *, clock: Clock = time.time) -> None:
        self._ps = ps
        self._clock = clock
        uname = platform.uname()
        self._platform = f"{uname.system} {uname.release}".strip() or None

    def collect(self, note: Note) -> dict[str, Any]:
        """Read hostname, platform, boot time and uptime."""
        boot_time = read_field(note, "boot_time", self._ps.boot_time, self._ps)
        return {
            "hostname": platform.node() or None,
            "platform": self._platform,
            "boot_time": boot_time,
            "uptime_seconds": None if boot_time is None else round(self._clock() - boot_time, 1),
        }


