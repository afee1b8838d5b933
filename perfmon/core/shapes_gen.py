"""Writes ``perfmon/core/shapes.py`` from the metric groups, as ``perfmon.core.metrics.typeddicts`` spells it.

``python -m perfmon.core.shapes_gen > perfmon/core/shapes.py`` after declaring or changing a
group; ``tests/unit/core/test_shapes.py`` fails until then.
"""

from __future__ import annotations

import sys

from perfmon.core.metrics.registry import GROUPS
from perfmon.core.metrics.typeddicts import shapes_source
from perfmon.core.schema import ERRORS


def text() -> str:
    """What ``perfmon/core/shapes.py`` must hold for today's groups."""
    return shapes_source(GROUPS, ERRORS)


def main() -> int:
    """Print the module's text on standard output."""
    sys.stdout.write(text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
