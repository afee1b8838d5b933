"""``perfmon alerts check FILE``: read a rules file as the API would at start, and say what it holds.

Exit 0 with a summary (each rule on a line) when the file is sound, 2 with one line naming the
file, the line and the problem otherwise, including a secret file that is missing or open to
others (the same check as the token file's). Nothing is started and nothing is sent.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from perfmon.alerts.model import AlertsFile, Rule
from perfmon.alerts.yamlfile import FileError
from perfmon.settings.alerts import load_alerts
from perfmon.settings.options import Parser


def main(argv: Sequence[str], prog: str = "perfmon alerts") -> int:
    """``check FILE``; exit 0, or 2 with one line."""
    parser = Parser(prog=prog, description="Check an alerts rules file (YAML) without starting anything.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="read FILE as the API would at start, and summarise it",
                                description="Read FILE as the API would at start, and summarise it.")
    check.add_argument("file", type=Path, metavar="FILE", help="the rules file (--alerts-file)")
    args = parser.parse_args(list(argv))
    try:
        alerts = load_alerts(args.file)
    except FileError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    print(summary(alerts))
    return 0


def summary(alerts: AlertsFile) -> str:
    """What the file holds, a rule a line."""
    built_in = sum(1 for rule in alerts.rules if rule.line is None)
    lines = [f"{alerts.source}: {len(alerts.rules)} rules ({built_in} built in), {len(alerts.channels)} "
             f"channels, {len(alerts.silences)} silences"]
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
