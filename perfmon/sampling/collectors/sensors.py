"""Temperature sensors: ``{"temperatures": [{"label": "coretemp Core 0", "current_celsius": 45.0, ...}]}``."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Note


class SensorsCollector:
    """Temperature sensors; an empty list where the host has none."""

    name = "sensors"
    section = "sensors"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> dict[str, Any]:
        """Read sensors_temperatures()."""
        read = getattr(self._ps, "sensors_temperatures", None)
        if read is None:
            note("temperature sensors are not supported on this platform")
            return {"temperatures": None}
        temperatures = []
        for chip, entries in sorted(read(fahrenheit=False).items()):
            for i, entry in enumerate(entries):
                if entry.label:
                    label = f"{chip} {entry.label}"
                else:
                    label = chip if len(entries) == 1 else f"{chip} {i}"
                temperatures.append({
                    "label": label,
                    "current_celsius": entry.current,
                    "high_celsius": entry.high,
                })
        return {"temperatures": temperatures}


