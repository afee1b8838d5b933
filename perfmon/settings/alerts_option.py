"""``--alerts-file``, the option alone (perfmon.settings.alerts reads the file it names)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_alerts_option(parser: argparse.ArgumentParser) -> None:
    """Add --alerts-file (read by perfmon.settings.alerts): the API server's and the launcher's."""
    parser.add_argument("--alerts-file", type=Path, default=None, metavar="FILE",
                        help="the alerts rules file (YAML; see 'perfmon alerts check'); without it the "
                             "built-in rules hold")
