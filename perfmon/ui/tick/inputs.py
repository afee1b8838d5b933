"""What the browser sends the poll callback, checked before a tick trusts it.

Any visitor can POST anything to ``/_dash-update-component``; the body's shape is checked
before Dash reads it (:mod:`perfmon.ui.edge.payload`), its values here. The tick trusts the tab's
cursor: it compares its fields, does arithmetic on them and sends some to the API
(``since=seq``, ``limit=max``, ``start=next``). So the callback reads its inputs here first.
What a real page never sends raises :class:`Forged`, whose ``str()`` names the field and the
problem in a few words (``cursor.seq: not an integer``) and never echoes the value: a
forged request is a 400 with that message (:mod:`perfmon.ui.backend`), one debug line and no
outbound request.

>>> read_cursor({"seq": "1&x"})
Traceback (most recent call last):
...
perfmon.ui.tick.inputs.Forged: cursor.seq: not an integer
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from perfmon.core import bounds
from perfmon.ui.tick.cursor import Cursor


class Forged(ValueError):
    """An input no page of this dashboard sends; ``str()`` names the field and the problem."""


# The cursor of a tab that shows nothing yet, as the store holds it. A cursor from an older
# page may lack keys; they are filled from these.
CURSOR_DEFAULTS: Mapping[str, Any] = MappingProxyType(Cursor().store())

LARGEST_COUNT = 2**53  # a browser's numbers are doubles: whole numbers are exact up to here
LAST_TIMESTAMP = bounds.LAST_TIMESTAMP  # the API's bound on start= and end=
MAX_POINTS = bounds.HISTORY_POINTS_MAX  # the most points= the API takes, far more than a chart holds (~1,000)
TAIL_LIMIT = bounds.TAIL_LIMIT  # the most limit= every API takes (more where it keeps more)
RESOLUTION_SECONDS = (0.01, 1e8)  # a point's width: narrower, a bucket query could end where it starts
REASON_MAX_CHARS = 500  # the tick should cut longer reasons to this before keeping them
KEY_MAX_CHARS = 64
CURSOR_MAX_CHARS = 4096  # the whole cursor as JSON: a second guard should a field's check be too lax
INSTANCE = re.compile(r"[A-Za-z0-9._-]{1,64}")  # the API's instance_id: 12 hex digits by default
KEY = re.compile(r"[A-Za-z0-9._:+-]{1,64}")  # a digest, "cpu:1795600000.123", a span key "5m"
PROCESS_SORTS = ("cpu", "memory")
RAW_TOGGLE_MAX_ITEMS = 4
HEX = re.compile(r"[0-9a-f]*")
ROWS_MAX_CHARS = 32 * 12  # perfmon.ui.tick.row_updates: 12 hex digits per row group shown

Check = Callable[[object], str | None]  # the problem with a value, in a few words; None if none


def whole(high: int, nullable: bool = True) -> Check:
    """None (if ``nullable``) or an int in [0, high]; a bool is not one."""

    def check(value: object) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            return "not an integer"
        return None if 0 <= value <= high else "out of range"

    return check


def number(low: float, high: float) -> Check:
    """None or a finite int or float in [low, high]; a bool is not one."""

    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            return "not a number"
        if isinstance(value, float) and not math.isfinite(value):
            return "not finite"
        return None if low <= value <= high else "out of range"

    return check


def text(max_chars: int, pattern: re.Pattern[str] | None = None) -> Check:
    """None or a str of at most ``max_chars``, all of it matching ``pattern`` if given."""

    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return "not a string"
        if len(value) > max_chars:
            return "too long"
        return None if pattern is None or pattern.fullmatch(value) else "unexpected characters"

    return check


def one_of(*choices: str) -> Check:
    """None or one of ``choices``."""

    def check(value: object) -> str | None:
        return None if value is None or (isinstance(value, str) and value in choices) else "unknown value"

    return check


def flag(value: object) -> str | None:
    """None or a bool."""
    return None if value is None or isinstance(value, bool) else "not a boolean"


CURSOR_CHECKS: Mapping[str, Check] = MappingProxyType({
    "instance": text(KEY_MAX_CHARS, INSTANCE),
    "seq": whole(LARGEST_COUNT),  # sent to the API as since=
    "perf": whole(LARGEST_COUNT),
    "procs": text(KEY_MAX_CHARS, KEY),
    "disks": text(KEY_MAX_CHARS, KEY),
    "host": text(KEY_MAX_CHARS, KEY),
    "link": one_of("up", "retry", "down"),
    "fails": whole(LARGEST_COUNT, nullable=False),  # counted up: None + 1 fails
    "since": number(0, LAST_TIMESTAMP),
    "reason": text(REASON_MAX_CHARS),
    "view": text(KEY_MAX_CHARS, KEY),
    "mode": one_of("raw", "buckets", "fixed"),
    "res": number(*RESOLUTION_SECONDS),
    "max": whole(MAX_POINTS),  # sent to the API as limit= or bounds points=
    "next": number(0, LAST_TIMESTAMP),  # sent to the API as start=
    "swap": flag,
    "n": whole(LARGEST_COUNT, nullable=False),
    "rows": text(ROWS_MAX_CHARS, HEX),  # perfmon.ui.tick.row_updates: compared, never sent to the API
    "rseq": whole(LARGEST_COUNT),
    "rhist": flag,  # the API keeps the rows' history
    "raw": flag,  # the raw-data panel is open on screen
    "alerts": text(KEY_MAX_CHARS, HEX),  # perfmon.ui.tick.alert_view: compared, never sent to the API
})

# What each way of following the API reads unchecked (perfmon.ui.tick.chart_reads), and the
# most points it asks for at once: limit= (every API takes 3,600) or points= (the API's most).
FOLLOWING: Mapping[str, tuple[tuple[str, ...], int]] = MappingProxyType({
    "raw": (("res", "max"), TAIL_LIMIT), "buckets": (("res", "max", "next"), MAX_POINTS),
})


def check_fields(cursor: Mapping[str, Any]) -> None:
    """Raise Forged naming the first field of a full cursor whose type or range is wrong."""
    for key, check in CURSOR_CHECKS.items():
        problem = check(cursor[key])
        if problem is not None:
            raise Forged(f"cursor.{key}: {problem}")


def check_following(cursor: Mapping[str, Any]) -> None:
    """Raise Forged when the cursor's mode lacks what following the API in it needs."""
    mode = cursor["mode"]
    needs, most = FOLLOWING.get(mode, ((), MAX_POINTS))
    for key in needs:
        if cursor[key] is None:
            raise Forged(f"cursor.{key}: missing in mode {mode}")
    if needs and not 1 <= cursor["max"] <= most:  # the API answers 400 to limit=0 or points=0
        raise Forged(f"cursor.max: out of range in mode {mode}")


def read_cursor(value: object) -> Cursor | None:
    """The tab's cursor, safe to use, with missing keys filled; None for a new tab; else Forged."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Forged("cursor: not an object")
    unknown = [key for key in value if key not in CURSOR_CHECKS]
    if unknown:
        raise Forged(f"cursor: unknown key {str(unknown[0])[:32]!r}")
    cursor = {**CURSOR_DEFAULTS, **value}
    check_fields(cursor)
    check_following(cursor)
    if len(json.dumps(cursor, ensure_ascii=False)) > CURSOR_MAX_CHARS:
        raise Forged("cursor: too large")
    return Cursor.from_store(cursor)


def read_rendered(value: object) -> bool:
    """Whether the browser lost a view: True only for ``{"lost": true}``; ``{"n": N}`` and None say no."""
    if value is None:
        return False
    if isinstance(value, dict) and value.keys() == {"lost"}:
        if value["lost"] is True:
            return True
        raise Forged("rendered.lost: not true")
    if isinstance(value, dict) and value.keys() == {"n"}:
        problem = whole(LARGEST_COUNT, nullable=False)(value["n"])
        if problem is None:
            return False
        raise Forged(f"rendered.n: {problem}")
    raise Forged("rendered: neither {n} nor {lost}")


def read_sort(value: object) -> str:
    """The process table's sort: ``cpu`` or ``memory``."""
    if isinstance(value, str) and value in PROCESS_SORTS:
        return value
    raise Forged("sort: unknown value")


def read_raw_open(value: object) -> bool:
    """Whether the raw-data panel is open: its checklist's value holds "open"."""
    if not isinstance(value, list):
        raise Forged("raw: not a list")
    if len(value) > RAW_TOGGLE_MAX_ITEMS:
        raise Forged("raw: too many items")
    if not all(isinstance(item, str) and len(item) <= KEY_MAX_CHARS for item in value):
        raise Forged("raw: not a list of short strings")
    return "open" in value
