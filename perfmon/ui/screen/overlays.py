"""What the alerts draw on a chart: each watching rule's level as a line, and the firing periods shaded.

Pure: the rules (as :mod:`perfmon.ui.screen.levels` reads them), the alerts and their transitions
in; plotly shapes, annotations and a trace out. A rule watches a chart when it selects a field the
chart draws (``cpu.percent`` the CPU chart, ``disks[...].percent`` the filesystems' chart). Its
level is a dashed line across the chart, labelled with the rule's name (per CPU levels times the
CPUs, as the chart shows the load itself). The periods any of its alerts fired are a translucent
band under the lines: a trace of its own on a hidden axis from 0 to 1, a point at 1 where the
chart's point (a sample, or a bucket) falls in a firing period, so it is appended with the chart's
points as they come (``extendData``) and a period still firing grows with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfmon.core import units
from perfmon.ui.screen.levels import Levels, Watch

Json = Mapping[str, Any]
COLORS = {"crit": "#dc2626", "warn": "#d97706", "ok": "#2563eb"}
FIRING_FILL = "rgba(220,38,38,0.13)"
FIRING_AXIS = {"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}


@dataclass(frozen=True)
class Marks:
    """One chart's levels (``(y, text, level)``) and the periods its rules' alerts fired (``(from, to)``,
    ``to`` None while one still fires)."""

    lines: tuple[tuple[float, str, str], ...] = ()
    periods: tuple[tuple[float, float | None], ...] = ()

    def firing(self, starts: Sequence[float], width: float) -> list[int | None]:
        """1 for each point (a sample at ``start``, or a bucket ``width`` long) in a firing period."""
        return [1 if any(begin <= start + width and (end is None or end >= start)
                         for begin, end in self.periods) else None for start in starts]


NO_MARKS = Marks()


def runs(flags: Sequence[int | None]) -> list[list[int]]:
    """The firing points as runs, ``[[first, last], ...]`` (indexes, inclusive): how the band travels,
    a few bytes however many points (``assets/perfmon.js`` makes them 1 there, null elsewhere)."""
    found: list[list[int]] = []
    for index, flag in enumerate(flags):
        if not flag:
            continue
        if found and found[-1][1] == index - 1:
            found[-1][1] = index
        else:
            found.append([index, index])
    return found


def marks(levels: Levels, watches: Iterable[tuple[str, str]], sample: Mapping[str, Any],
          alerts: Sequence[Json], history: Sequence[Json], unit: str) -> Marks:
    """The marks of a chart in ``unit`` of these series (group, field)."""
    watching = list({w.name: w for group, field in watches for w in levels.lines(group, [field])}.values())
    names = {w.name for w in watching}
    lines = tuple(line for w in watching if (line := level_line(w, sample, unit)) is not None)
    return Marks(lines, periods([t for t in history if t["alertname"] in names],
                                [a for a in alerts if a["alertname"] in names]))


def level_line(watch: Watch, sample: Mapping[str, Any], unit: str) -> tuple[float, str, str] | None:
    """Where a rule's level sits on the chart, and its label; None when it cannot be placed."""
    y = watch.threshold
    if watch.divide_by is not None:
        divisor = (sample.get(watch.divide_by.group) or {}).get(watch.divide_by.field or "")
        if not isinstance(divisor, (int, float)) or not divisor:
            return None
        y *= divisor
    return y, f"{watch.name} {'>' if watch.above else '<'} {units.show(unit, y)}", watch.level


def periods(transitions: Sequence[Json], active: Sequence[Json]) -> tuple[tuple[float, float | None], ...]:
    """When each alert fired until it resolved, from its transitions (oldest first) and what fires now."""
    open_: dict[str, float] = {}
    found: list[tuple[float, float | None]] = []
    for t in transitions:
        if t["kind"] == "firing":
            open_.setdefault(t["id"], t["at"])
        elif t["kind"] == "resolved" and t["id"] in open_:
            found.append((open_.pop(t["id"]), t["at"]))
    firing = {a["id"]: a["fired_at"] for a in active if a["state"] == "firing" and a["fired_at"] is not None}
    for alert_id, since in open_.items():  # fired, not resolved: still firing, or resolved unseen
        found.append((since, None if alert_id in firing else since))
    found += [(since, None) for alert_id, since in firing.items() if alert_id not in open_]
    return tuple(sorted(found, key=lambda p: p[0]))


def firing_trace(flags: Sequence[int | None]) -> dict[str, Any]:
    """The band of firing periods: under the lines, on its own hidden axis (``FIRING_AXIS``); its ``y``
    sent as :func:`runs`."""
    return {"type": "scatter", "mode": "lines", "name": "firing", "yaxis": "y2", "y": runs(flags),
            "line": {"width": 0, "shape": "hv"}, "fill": "tozeroy", "fillcolor": FIRING_FILL,
            "hoverinfo": "skip", "showlegend": False, "meta": {"firing": True}}


def decorate(layout: dict[str, Any], lines: Sequence[tuple[float, str, str]], banded: bool) -> None:
    """Draw the levels on a layout, and the firing band's axis when the chart has one."""
    if banded:
        layout["yaxis2"] = dict(FIRING_AXIS)
    if not lines:
        return
    layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": y, "y1": y,
                         "line": {"color": COLORS[level], "width": 1, "dash": "dash"}, "layer": "below"}
                        for y, _, level in lines]
    layout["annotations"] = [{"xref": "paper", "x": 1, "xanchor": "right", "yref": "y", "y": y,
                              "yanchor": "bottom", "text": text, "showarrow": False,
                              "font": {"size": 10, "color": COLORS[level]}} for y, text, level in lines]
