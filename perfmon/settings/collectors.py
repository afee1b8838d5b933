"""``--collectors``: which collectors run, as one option (node_exporter's ``--[no-]collector.X`` in one);
``--collector-intervals``: how often some of them run.

Two forms, never mixed: changes to the defaults, ``-sensors,+pressure`` (each name after ``+``
is switched on, after ``-`` off), or a plain list, ``cpu,memory,processes``, which runs exactly
those. Empty (the default) runs the defaults. The names are the collector registry's
(``perfmon.sampling.registry``); settings do not import sampling, so the entry points hand
the names in and an unknown one is a usage error that lists them.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

ITEM = re.compile(r"[+-]?[a-z][a-z0-9_]*")
HELP = ("which collectors run: changes to the defaults such as -sensors,+pressure, or a plain list such "
        "as cpu,memory,processes that runs only those (default: the defaults; /api/health lists them all)")


def collector_spec(text: str) -> tuple[str, ...]:
    """An argparse type: ``-sensors,+pressure`` or ``cpu,memory`` as its items; empty for the defaults."""
    items = tuple(item.strip().lower() for item in text.split(",") if item.strip())
    for item in items:
        if not ITEM.fullmatch(item):
            raise argparse.ArgumentTypeError(f"{item!r} is not a collector name, +name or -name")
    signed = [item[:1] in "+-" for item in items]
    if any(signed) and not all(signed):
        raise argparse.ArgumentTypeError(f"{text!r} mixes a plain list with +/- changes: give either "
                                         "cpu,memory (only those) or -sensors,+pressure (changes)")
    seen: set[str] = set()
    for item in items:
        name = item.lstrip("+-")
        if name in seen:
            raise argparse.ArgumentTypeError(f"{text!r} names {name} twice")
        seen.add(name)
    return items


INTERVAL_BOUNDS = (0.1, 3600.0)
INTERVALS_HELP = ("seconds between runs of some collectors, as disks=1,sensors=30, each 0.1-3600 (default: "
                  "cpu_frequency, disks, sensors, fans and battery every 5 s, the others every sample; the "
                  "process table has --process-interval)")


def collector_intervals(text: str) -> tuple[tuple[str, float], ...]:
    """An argparse type: ``disks=1,sensors=30`` as (name, seconds) pairs; empty for the defaults."""
    pairs: list[tuple[str, float]] = []
    for item in (item.strip().lower() for item in text.split(",")):
        if not item:
            continue
        name, equals, seconds = (part.strip() for part in item.partition("="))
        if not equals or not ITEM.fullmatch(name) or name[:1] in "+-":
            raise argparse.ArgumentTypeError(f"{item!r} is not NAME=SECONDS, as disks=1")
        if name == "processes":
            raise argparse.ArgumentTypeError("the process table's interval is --process-interval "
                                             "(PERFMON_PROCESS_INTERVAL)")
        try:
            value = float(seconds)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: {seconds!r} is not a number of seconds") from None
        low, high = INTERVAL_BOUNDS
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{item!r}: the interval must be {low:g}-{high:g} seconds")
        if any(name == seen for seen, _ in pairs):
            raise argparse.ArgumentTypeError(f"{text!r} names {name} twice")
        pairs.append((name, value))
    return tuple(pairs)


def unknown_collector(spec: Sequence[str], known: Sequence[str],
                      intervals: Sequence[tuple[str, float]] = ()) -> str | None:
    """The usage error for the first name in ``spec`` or ``intervals`` not in ``known`` (None if all are)."""
    for item in spec:
        name = item.lstrip("+-")
        if name not in known:
            return (f"unknown collector {name!r} in --collectors (PERFMON_COLLECTORS); the collectors are: "
                    f"{', '.join(known)}")
    for name, _ in intervals:
        if name not in known:
            return (f"unknown collector {name!r} in --collector-intervals (PERFMON_COLLECTOR_INTERVALS); "
                    f"the collectors are: {', '.join(known)}")
    return None


def add_collectors_option(parser: argparse.ArgumentParser) -> None:
    """Add --collectors and --collector-intervals: the API server's and the launcher's."""
    parser.add_argument("--collectors", type=collector_spec, default=(), metavar="LIST", help=HELP)
    parser.add_argument("--collector-intervals", type=collector_intervals, default=(), metavar="LIST",
                        help=INTERVALS_HELP)
