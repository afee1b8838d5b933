"""The ``perfmon`` command: ``run``, ``api``, ``dashboard``, ``token``, ``install-unit``, ``alerts``.

Each command takes exactly the options (and PERFMON_* variables) of its script:
``run`` is ``run_http_polling_system.py``, ``api`` is ``performance_api_server.py`` and
``dashboard`` is ``performance_dashboard_http_polling.py``; ``token`` makes an access token
(:mod:`perfmon.settings.token`) and ``install-unit`` writes the systemd unit that runs ``run`` as a
service (``perfmon/runtime/install.py``). A command's module is
imported only when it runs, so ``perfmon api`` never loads Dash.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from perfmon import __version__
from perfmon.settings.options import Parser

COMMANDS = {  # name: (module, function, summary)
    "run": ("perfmon.runtime.launcher", "main", "run the API server and the dashboard together"),
    "api": ("perfmon.api.server", "main", "run the API server alone"),
    "dashboard": ("perfmon.runtime.launcher", "dashboard_main",
                  "run the dashboard alone, for an API that runs elsewhere"),
    "token": ("perfmon.settings.token", "main",
              "print a new random access token, or write it to a new file of mode 0600"),
    "install-unit": ("perfmon.runtime.install", "main",
                     "write a systemd unit that runs this installation as a service"),
    "alerts": ("perfmon.runtime.alerts_command", "main",
               "check a rules file (alerts check FILE), or send a test notification (alerts test CHANNEL)"),
}


def parser() -> argparse.ArgumentParser:
    """The top-level parser: a command, or --version."""
    summaries = "\n".join(f"  {name:<13}{summary}" for name, (_, _, summary) in COMMANDS.items())
    top = Parser(
        prog="perfmon", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A host performance monitor served over plain HTTP polling.",
        epilog=f"commands:\n{summaries}\n\n'perfmon COMMAND --help' lists a command's options.",
    )
    top.add_argument("--version", action="version", version=f"perfmon {__version__}")
    top.add_argument("command", choices=list(COMMANDS), metavar="COMMAND",
                     help="one of " + ", ".join(COMMANDS))
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run a perfmon command; returns the process exit code (2 for a usage error)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        parser().parse_args(args)  # --version, --help, or a usage error: each exits
        return 2
    module, function, _ = COMMANDS[args[0]]
    run = getattr(importlib.import_module(module), function)
    return int(run(args[1:], prog=f"perfmon {args[0]}"))
