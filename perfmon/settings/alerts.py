"""``--alerts-file`` (``PERFMON_ALERTS_FILE``): the rules file, read and checked when perfmon starts.

A problem in it stops the start with exit 2 and one line naming the file, the line and what is
wrong, as ``perfmon alerts check FILE`` says it; secret files are checked as the token file is
(present, a file, owned by this user or root, open to nobody else).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from perfmon.alerts.credentials import CREDENTIALS_VARIABLE, located
from perfmon.alerts.model import AlertsFile
from perfmon.alerts.rules import builtin_rules, read_file
from perfmon.alerts.yamlfile import FileError
from perfmon.settings.options import refuse
from perfmon.settings.token import file_problem


def builtin() -> AlertsFile:
    """The built-in rules alone: no file."""
    return AlertsFile(builtin_rules())


def read_alerts_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Set ``args.alerts`` from ``args.alerts_file``; a problem is exit 2 with its one line."""
    try:
        args.alerts = load_alerts(args.alerts_file)
    except FileError as exc:
        refuse(parser, str(exc))


def load_alerts(path: Path | None) -> AlertsFile:
    """The rules of ``path`` (or the built-in ones), with every secret file checked; FileError otherwise."""
    if path is None:
        return builtin()
    alerts = read_file(path)
    for channel in alerts.channels.values():
        for key, value in channel.options.items():
            if key.endswith("_file"):
                check_secret_file(Path(value), f"channel {channel.name}: {key}", alerts.source, channel.line)
    return alerts


def check_secret_file(path: Path, what: str, source: str, line: int | None) -> None:
    """FileError when the secret file at ``path`` (or its systemd credential) is missing, not a file, or
    open to others."""
    path = located(path)
    try:
        status = path.stat()
    except OSError as exc:
        raise FileError(source, line, f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise FileError(source, line, f"{what}: {path} is not a file")
    problem = file_problem(path, status, os.environ.get(CREDENTIALS_VARIABLE), "the secret file",
                           "the secret")
    if problem:
        raise FileError(source, line, f"{what}: {problem}")
