"""psutil's ``sensors_*`` readings: temperatures, fans and the battery.

Temperatures: ``{"temperatures": [{"label": "coretemp Core 0", "current_celsius": 45.0, ...}]}``;
fans: ``[{"chip": "thinkpad", "fan": "fan1", "current_rpm": 2400}]``; the battery: ``{"percent": 81.5,
"time_left_seconds": 9120, "power_plugged": false}``. As with temperatures, a host that has none
(most servers and virtual machines) is no error: no fans is an empty list (the dashboard says "no
fans on this host") and no battery a null section, each sample, with nothing in the errors or the
log. A platform where psutil has no such reading leaves the section null with the reason.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from perfmon.sampling.collectors.base import Note, round_or_none


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


class FansCollector:
    """Fan speeds, one row per fan; an empty list where the host has none."""

    name = "fans"
    section = "fans"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps

    def collect(self, note: Note) -> list[dict[str, Any]] | None:
        """Read sensors_fans()."""
        read = getattr(self._ps, "sensors_fans", None)
        if read is None:
            note("fans are not supported on this platform (psutil has no sensors_fans)")
            return None
        return [{"chip": chip, "fan": entry.label or str(i), "current_rpm": entry.current}
                for chip, entries in sorted(read().items()) for i, entry in enumerate(entries)]


class BatteryCollector:
    """The battery's charge, time left and mains power; null where the host has none."""

    name = "battery"
    section = "battery"

    def __init__(self, ps: ModuleType) -> None:
        self._ps = ps
        # psutil's markers for "no time left to tell": on mains power, and not known
        self._unlimited = getattr(ps, "POWER_TIME_UNLIMITED", None)
        self._unknown = getattr(ps, "POWER_TIME_UNKNOWN", None)

    def collect(self, note: Note) -> dict[str, Any] | None:
        """Read sensors_battery()."""
        read = getattr(self._ps, "sensors_battery", None)
        if read is None:
            note("batteries are not supported on this platform (psutil has no sensors_battery)")
            return None
        battery = read()
        if battery is None:  # no battery here: a fact of the host, not a failed read
            return None
        left = battery.secsleft
        if left == self._unlimited:  # on mains power: no time to tell, and nothing wrong
            left = None
        elif left is None or left == self._unknown or left < 0:
            note("time left: the battery does not say (psutil: POWER_TIME_UNKNOWN)")
            left = None
        if battery.power_plugged is None:
            note("power plugged: the battery does not say")
        return {"percent": round_or_none(battery.percent),
                "time_left_seconds": None if left is None else int(left),
                "power_plugged": battery.power_plugged}
