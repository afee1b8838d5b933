"""What the charts span: a preset range that ends now, or a fixed range from a zoom; and the URL of each.

A tab's span lives in a ``dcc.Store`` and in the page's URL (``?range=6h``, or
``?start=1795600000&end=1795603600`` for a zoom), so a shared link shows the same view and
a reload restores it. Zooming a chart (plotly's ``relayoutData``) fixes the span to what the
chart shows; a double-click (``xaxis.autorange``) or a preset goes back. Times on the charts
are the dashboard server's local time, as :func:`perfmon.core.units.chart_time` writes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from perfmon.core import bounds, units

PRESETS: dict[str, int] = {"5m": 300, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800, "30d": 2592000}
LABELS: dict[str, str] = {"5m": "5 min", "1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 d", "30d": "30 d"}
DEFAULT_PRESET = "5m"
MIN_ZOOM_SECONDS = 1.0  # plotly lets a drag select a few milliseconds; less than a second shows nothing
LAST_TIMESTAMP = bounds.LAST_TIMESTAMP  # a zoom past the API's bound on end= is refused here
NUMBER = re.compile(r"\d{1,10}(\.\d{1,6})?")
CHART_TIME = re.compile(  # plotly's date: 2026-11-26, to the minute, the second or below
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(\.\d+)?)?)?)?")


@dataclass(frozen=True)
class Span:
    """A preset that ends now (``preset``), or a fixed range (``start`` to ``end``, Unix seconds)."""

    preset: str | None = DEFAULT_PRESET
    start: float = 0.0
    end: float = 0.0
    back: str = DEFAULT_PRESET  # the preset a double-click goes back to from a zoom

    @property
    def live(self) -> bool:
        """True for a preset: it ends now and follows new samples."""
        return self.preset is not None

    @property
    def seconds(self) -> float:
        """How much time the span covers."""
        return float(PRESETS[self.preset]) if self.preset else self.end - self.start

    @property
    def key(self) -> str:
        """What a tab's cursor keeps to know which span its charts show."""
        return self.preset or f"{short(self.start)}-{short(self.end)}"

    def store(self) -> dict[str, Any]:
        """The span as the page's store keeps it."""
        if self.preset:
            return {"range": self.preset}
        return {"start": self.start, "end": self.end, "back": self.back}

    def search(self) -> str:
        """The span as the page's URL query."""
        return f"?range={self.preset}" if self.preset else f"?start={short(self.start)}&end={short(self.end)}"

    def note(self) -> str:
        """What a zoom shows, in words; nothing for a preset (the selector says it)."""
        if self.preset:
            return ""
        return (f"{describe(self.start)} to {describe(self.end)} "
                f"(double-click a chart or pick a range to go back)")


def short(seconds: float) -> str:
    """Unix seconds with at most three decimals and no trailing zeros: ``1795600000.25``."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def describe(timestamp: float) -> str:
    """A time of a zoom's edge in words: ``2026-11-26 14:02:10`` (local time)."""
    return units.chart_time(timestamp)


def preset_covering(seconds: float) -> str:
    """The smallest preset that shows at least ``seconds``."""
    return next((name for name, length in PRESETS.items() if length >= seconds), "30d")


def is_preset(value: Any) -> bool:
    """Whether ``value`` names a preset (a forged one may be a list or a dict: no error)."""
    return isinstance(value, str) and value in PRESETS


def as_time(value: Any) -> float | None:
    """A number a browser sent as a time, as a float; None for anything else (an int too big for one)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # JSON carries integers of any size
        return None


def fixed(start: float, end: float, back: Any = None) -> Span | None:
    """A fixed span, widened to a second at least; None if the times make no sense."""
    if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
        return None
    if end - start < MIN_ZOOM_SECONDS:
        middle = (start + end) / 2
        start, end = middle - MIN_ZOOM_SECONDS / 2, middle + MIN_ZOOM_SECONDS / 2
    if start < 0 or end > LAST_TIMESTAMP:
        return None
    start, end = round(start, 3), round(end, 3)
    return Span(None, start, end, back if is_preset(back) else preset_covering(end - start))


def from_store(data: Any) -> Span:
    """The span a store holds; the default preset for anything else (a forged request)."""
    if isinstance(data, Mapping):
        if is_preset(data.get("range")):
            return Span(data["range"])
        start, end = as_time(data.get("start")), as_time(data.get("end"))
        if start is not None and end is not None:
            span = fixed(start, end, data.get("back"))
            if span is not None:
                return span
    return Span()


def from_search(search: str | None) -> Span:
    """The span a URL query asks for (``?range=1h`` or ``?start=..&end=..``); the default otherwise."""
    query = parse_qs(search.lstrip("?") if isinstance(search, str) else "")
    preset = query.get("range", [""])[0]
    if preset in PRESETS:
        return Span(preset)
    start, end = query.get("start", [""])[0], query.get("end", [""])[0]
    if NUMBER.fullmatch(start) and NUMBER.fullmatch(end):
        return fixed(float(start), float(end)) or Span()
    return Span()


def parse_chart_time(text: Any) -> float | None:
    """Unix seconds of a time as plotly writes it on a date axis (local time); None if it is not one."""
    match = CHART_TIME.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    try:  # a naive datetime is local time, as the charts show it
        whole = datetime(year, month, day, hour, minute, second).timestamp()
    except (OverflowError, ValueError, OSError):
        return None
    return whole + float(match.group(7) or 0)


def zoom_of(relayout: Any) -> tuple[float, float] | str | None:
    """A chart's new x range from its ``relayoutData``; ``"reset"`` for a double-click; else None."""
    if not isinstance(relayout, Mapping):
        return None
    if relayout.get("xaxis.autorange") is True:
        return "reset"
    edges = relayout.get("xaxis.range")
    if not (isinstance(edges, list) and len(edges) == 2):
        edges = [relayout.get("xaxis.range[0]"), relayout.get("xaxis.range[1]")]
    start, end = (parse_chart_time(edge) for edge in edges)
    return None if start is None or end is None else (start, end)


def choose(trigger: str | None, search: str | None, preset: Any, relayout: Any, current: Any) -> Span | None:
    """The span after what the user did (``trigger``: "url", "range", "graph" or None on load).

    None when nothing changes: a double-click on a preset, a click on the shown preset.
    """
    shown = from_store(current) if current else None
    if trigger == "range":
        chosen = Span(preset) if is_preset(preset) else None
    elif trigger == "graph":
        zoom = zoom_of(relayout)
        if zoom == "reset":
            chosen = Span(shown.back) if shown is not None and not shown.live else None
        elif isinstance(zoom, tuple):
            back = (shown.preset or shown.back) if shown is not None else None
            chosen = fixed(*zoom, back)
        else:
            chosen = None
    else:  # the page's URL: a load, a reload, or the browser's back and forward buttons
        chosen = from_search(search)
    return None if chosen is None or chosen == shown else chosen
