"""``perfmon alerts check FILE`` and ``perfmon alerts test CHANNEL``.

``check`` reads a rules file as the API would at start and says what it holds: exit 0 with a
summary (each rule on a line) when the file is sound, 2 with one line naming the file, the line
and the problem otherwise, including a secret file that is missing or open to others (the same
check as the token file's). Nothing is started and nothing is sent.

``test`` sends a test notification to one channel of the rules file (``--alerts-file`` or
``PERFMON_ALERTS_FILE``), as the API would send an alert: exit 0 once the channel took it, 1 with
the reason when it did not, 2 for a bad file or a channel it does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from perfmon.alerts.model import AlertsFile, Rule
from perfmon.alerts.notify.message import Notification
from perfmon.alerts.notify.webhook import SendError
from perfmon.alerts.yamlfile import FileError
from perfmon.api.alerting import senders
from perfmon.settings.alerts import load_alerts
from perfmon.settings.options import Parser, apply_env_defaults


def main(argv: Sequence[str], prog: str = "perfmon alerts") -> int:
    """``check FILE`` or ``test CHANNEL``; the exit codes of the module's docstring."""
    parser, test = command_parser(prog)
    args = parser.parse_args(list(argv))
    path = args.file if args.command == "check" else args.alerts_file
    if path is None:
        test.error("give the rules file: --alerts-file FILE (or PERFMON_ALERTS_FILE)")
    try:
        alerts = load_alerts(Path(path))
    except FileError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.command == "check":
        print(summary(alerts))
        return 0
    return send_test(alerts, args.channel, f"{prog} test")


def command_parser(prog: str) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The parser of ``perfmon alerts``, and that of its ``test`` (which reads PERFMON_ALERTS_FILE)."""
    parser = Parser(prog=prog, description="Check an alerts rules file, or send a test notification.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="read FILE as the API would at start, and summarise it",
                                description="Read FILE as the API would at start, and summarise it.")
    check.add_argument("file", type=Path, metavar="FILE", help="the rules file (--alerts-file)")
    test = commands.add_parser("test", help="send a test notification to CHANNEL",
                               description="Send a test notification to one channel of the rules file.")
    test.add_argument("channel", metavar="CHANNEL", help="a channel's name in the rules file")
    test.add_argument("--alerts-file", type=Path, metavar="FILE", default=None,
                      help="the rules file (default: PERFMON_ALERTS_FILE)")
    apply_env_defaults(test, os.environ)
    return parser, test


def send_test(alerts: AlertsFile, name: str, prog: str) -> int:
    """Send a test notification to channel ``name``: 0 when it took it, 1 when not, 2 for no such channel."""
    channel = alerts.channels.get(name)
    if channel is None:
        known = ", ".join(alerts.channels) or "none"
        print(f"{prog}: {alerts.source} has no channel {name!r} (its channels: {known})", file=sys.stderr)
        return 2

    async def send() -> str | None:
        async with aiohttp.ClientSession() as session:
            sender = senders(AlertsFile((), {name: channel}), lambda: session).get(name)
            if sender is None:
                return f"cannot send to {channel.type} channels here (pip install 'perfmon[apprise]')"
            try:
                await sender.send(Notification.of(name, "test", time.time(), socket.gethostname(), []))
            except SendError as exc:
                return str(exc)
        return None

    problem = asyncio.run(send())
    if problem is not None:
        print(f"{prog}: channel {name} ({channel.type}): {problem}", file=sys.stderr)
        return 1
    print(f"sent a test notification to channel {name} ({channel.type})")
    return 0


def counted(count: int, noun: str) -> str:
    """``1 channel``, ``2 channels``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary(alerts: AlertsFile) -> str:
    """What the file holds, a rule a line."""
    built_in = sum(1 for rule in alerts.rules if rule.line is None)
    lines = [f"{alerts.source}: {counted(len(alerts.rules), 'rule')} ({built_in} built in), "
             f"{counted(len(alerts.channels), 'channel')}, {counted(len(alerts.silences), 'silence')}"]
    lines += [f"  {describe(rule)}" for rule in alerts.rules]
    lines += [f"  channel {c.name}: {c.type}" for c in alerts.channels.values()]
    return "\n".join(lines)


def describe(rule: Rule) -> str:
    """One rule in a line: ``HighCpu: cpu.percent > 90 (clears < 80) for 15m, warning, all channels``."""
    sign, back = (">", "<") if rule.above is not None else ("<", ">")
    where = "built in" if rule.line is None else f"line {rule.line}"
    per = f" / {rule.divide_by}" if rule.divide_by else ""
    told = ", ".join(rule.notify) if rule.notify is not None else "all channels"
    return (f"{rule.name}: {rule.select}{per} {sign} {rule.threshold:g} (clears {back} {rule.clear:g}) "
            f"for {rule.for_seconds:g} s, {rule.severity}, {told} ({where})")
