"""Durations (``10m``, ``1h30m``) and thresholds in the unit of the field a rule selects.

A threshold is a plain number in the field's own unit (``90`` for a percent, bytes for bytes), or
a number with a unit that fits the field: ``90%``; ``512 MiB``, ``2 GB`` (powers of 1000 and of
1024, as written); ``50 MB/s``; ``80 °C`` or ``80C``; ``800 rpm``; ``500ms``, ``2s``, ``5m`` for seconds.
A unit that does not fit the field (``2 GB`` for a percent) is refused with the units that would.
"""

from __future__ import annotations

import math
import re

DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w))")
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
BYTE_PREFIXES = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15,
                 "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
NUMBER = re.compile(r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*")
SUFFIXES = {  # a field's unit: the suffixes it takes (besides none), as the error lists them
    "percent": "%", "celsius": "°C or C", "bytes": "B, kB, MB, GB, TB, KiB, MiB, GiB, TiB",
    "bytes_per_s": "B/s, kB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s", "seconds": "ms, s, m, h, d",
    "ops_per_s": "/s", "mhz": "MHz, GHz", "rpm": "rpm",
}


class QuantityError(ValueError):
    """A duration or threshold that cannot be read; the message says what would be."""


def duration(text: object, what: str = "a duration") -> float:
    """Seconds in ``10m``, ``1h30m``, ``45s``, ``500ms`` or a plain number of seconds (not negative)."""
    if isinstance(text, bool):
        raise QuantityError(f"{what} must be like 30s, 10m, 4h or 1h30m, not {text!r}")
    if isinstance(text, (int, float)):
        seconds = float(text)
    elif isinstance(text, str) and text.strip() and DURATION.sub("", text.strip().replace(" ", "")) == "":
        seconds = sum(float(n) * DURATION_UNITS[u] for n, u in DURATION.findall(text.replace(" ", "")))
    else:
        raise QuantityError(f"{what} must be like 30s, 10m, 4h or 1h30m, not {text!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise QuantityError(f"{what} must be 0 or more seconds, not {text!r}")
    return seconds


def threshold(value: object, unit: str, what: str = "a threshold") -> float:
    """A threshold in the field's ``unit``: a number in it, or a number with a suffix that fits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise QuantityError(f"{what} must be a number, not {value!r}")
    if isinstance(value, (int, float)):
        number, suffix = float(value), ""
    else:
        match = NUMBER.fullmatch(value)
        if match is None:
            raise QuantityError(f"{what} must be a number{_with(unit)}, not {value!r}")
        number, suffix = float(match.group(1)), match.group(2)
    if not math.isfinite(number):
        raise QuantityError(f"{what} must be a finite number, not {value!r}")
    factor = 1.0 if not suffix else _factor(suffix, unit)
    if factor is None:
        raise QuantityError(f"{what}: {suffix!r} is no unit for a field in {unit}{_with(unit)}")
    return number * factor


def _with(unit: str) -> str:
    suffixes = SUFFIXES.get(unit)
    return f" (in {unit}, or with a unit: {suffixes})" if suffixes else f" (in {unit})"


def _factor(suffix: str, unit: str) -> float | None:
    """What one of ``suffix`` is in ``unit``, or None when it is no unit of it."""
    lower = suffix.lower()
    if unit == "percent":
        return 1.0 if suffix == "%" else None
    if unit == "celsius":
        return 1.0 if suffix in ("°C", "C", "°c") else None
    if unit == "seconds":
        return DURATION_UNITS.get(lower)
    if unit == "mhz":
        return {"mhz": 1.0, "ghz": 1000.0}.get(lower)
    if unit == "ops_per_s":
        return 1.0 if suffix == "/s" else None
    if unit == "rpm":
        return 1.0 if lower == "rpm" else None
    if unit == "bytes_per_s":
        if not lower.endswith("/s"):
            return None
        lower = lower[:-2]
    elif unit != "bytes":
        return None
    if not lower.endswith("b"):
        return None
    return BYTE_PREFIXES.get(lower[:-1])
