"""The options of ``perfmon install-unit``, here with every other entry point's, so each knows its variables.

Writing the unit is :mod:`perfmon.runtime.install`'s; this module only says what it takes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from perfmon.settings.options import ENV_EPILOG, Parser

DEFAULT_OUTPUT = Path("/etc/systemd/system/perfmon.service")
DEFAULT_TOKEN_FILE = Path("/etc/perfmon/token")
DEFAULT_HOST = "0.0.0.0"


def install_unit_parser(prog: str = "perfmon install-unit") -> argparse.ArgumentParser:
    """install-unit's own options; every other option is perfmon run's, for ExecStart."""
    parser = Parser(
        prog=prog, allow_abbrev=False,
        description="Write a systemd unit that runs this installation's perfmon (perfmon run) as a "
                    "hardened service, its secrets handed over as credentials.",
        epilog="Any other option is perfmon run's and goes on ExecStart ('perfmon run --help' lists them). "
               + ENV_EPILOG.format(example="PERFMON_TOKEN_FILE=/etc/perfmon/token"))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="PATH",
                        help="the unit file to write (default: %(default)s)")
    parser.add_argument("--stdout", action="store_true", help="print the unit instead of writing it")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="address the service listens on (default: %(default)s, behind the token)")
    parser.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE, metavar="PATH",
                        help="the token, root's and mode 0600; systemd hands it over at every start "
                             "(default: %(default)s)")
    parser.add_argument("--tls-cert", type=Path, metavar="PATH", help="serve HTTPS with this certificate")
    parser.add_argument("--tls-key", type=Path, metavar="PATH",
                        help="the certificate's private key, root's and mode 0600")
    parser.add_argument("--alerts-file", type=Path, metavar="PATH",
                        help="the alerts rules file, root's and mode 0600; systemd hands it over at every "
                             "start, and each file it names (root's and 0600 too) by its path")
    return parser
