"""``--collectors``: which collectors run, as one option (node_exporter's ``--[no-]collector.X`` in one).

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


def unknown_collector(spec: Sequence[str], known: Sequence[str]) -> str | None:
    """The usage error for the first name in ``spec`` that is not in ``known`` (None if all are)."""
    for item in spec:
        name = item.lstrip("+-")
        if name not in known:
            return (f"unknown collector {name!r} in --collectors (PERFMON_COLLECTORS); the collectors are: "
                    f"{', '.join(known)}")
    return None


def add_collectors_option(parser: argparse.ArgumentParser) -> None:
    """Add --collectors: the API server's and the launcher's."""
    parser.add_argument("--collectors", type=collector_spec, default=(), metavar="LIST", help=HELP)
