"""Numbers for people: binary byte units, rates, percentages, durations and clock times.

Every function takes ``None`` (a metric that could not be read) and returns ``NA``.
"""

from __future__ import annotations

import time

NA = "n/a"
BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def size(value: float | None) -> str:
    """Bytes in binary units with three significant figures: ``512 B``, ``1.50 GiB``, ``23.5 GiB``.

    The unit is chosen after rounding, so 1023.6 KiB reads ``1.00 MiB``, never ``1024 KiB``.
    """
    if value is None:
        return NA
    amount = float(value)
    unit, text = BYTE_UNITS[0], f"{amount:.0f}"
    for bigger in BYTE_UNITS[1:]:
        if abs(float(text)) < 1024:
            break
        amount /= 1024
        unit, text = bigger, three_figures(amount)
    return f"{text} {unit}"


def three_figures(amount: float) -> str:
    """``1.50``, ``23.5``, ``512``: decimals chosen by the rounded value (9.996 is ``10.0``)."""
    for digits in (2, 1):
        text = f"{amount:.{digits}f}"
        if abs(float(text)) < 10 ** (3 - digits):
            return text
    return f"{amount:.0f}"


def rate_unit(largest: float) -> tuple[str, int]:
    """The IEC rate unit to show values up to ``largest`` B/s in, and its size: ``("MiB/s", 1048576)``.

    KiB/s at least: a chart's axis in B/s would be a wall of digits for any real traffic.
    """
    power = 1
    while power < len(BYTE_UNITS) - 1 and abs(largest) >= 1024 ** (power + 1):
        power += 1
    return f"{BYTE_UNITS[power]}/s", 1024 ** power


def rate(value: float | None) -> str:
    """Bytes per second: ``1.20 MiB/s``."""
    return NA if value is None else size(value) + "/s"


def percent(value: float | None) -> str:
    """A percentage with one decimal: ``12.3 %``."""
    return NA if value is None else f"{value:.1f} %"


def duration(seconds: float | None) -> str:
    """A duration in its two largest units: ``3 d 4 h``, ``4 h 12 min``, ``12 min``, ``45 s``."""
    if seconds is None:
        return NA
    whole = int(max(0.0, seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def clock(timestamp: float | None) -> str:
    """Local wall-clock time of a Unix timestamp: ``21:43:12``."""
    return NA if timestamp is None else time.strftime("%H:%M:%S", time.localtime(timestamp))


def chart_time(timestamp: float, with_ms: bool = False) -> str:
    """Local date-time as plotly reads it, to the second (or millisecond)."""
    if not with_ms:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(round(timestamp)))
    seconds, ms = divmod(round(timestamp * 1000), 1000)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) + f".{ms:03d}"


def level(value: float | None, warning: float, critical: float) -> str:
    """``ok``, ``warn`` or ``crit`` by thresholds (inclusive), ``na`` when unknown."""
    if value is None:
        return "na"
    if value >= critical:
        return "crit"
    if value >= warning:
        return "warn"
    return "ok"


def load(value: float | None) -> str:
    """A load average with two decimals: ``0.15``."""
    return NA if value is None else f"{value:.2f}"


def show(unit: str, value: float | None) -> str:
    """A value in the unit the schema gives it (``perfmon.core.schema.Unit``), for people."""
    if unit == "percent":
        return percent(value)
    if unit == "bytes":
        return size(value)
    if unit == "bytes_per_s":
        return rate(value)
    if unit == "load":
        return load(value)
    if unit == "seconds":
        return duration(value)
    if unit == "celsius":
        return NA if value is None else f"{value:.1f} °C"
    if unit == "ops_per_s":
        return NA if value is None else f"{value:.0f} ops/s"
    if unit == "rpm":
        return NA if value is None else f"{value:.0f} rpm"
    return NA if value is None else str(value)
