"""Option types and the PERFMON_* environment: shared by every entry point's parser."""

from __future__ import annotations

import argparse
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import platformdirs

from perfmon.settings.alerts_option import add_alerts_option
from perfmon.settings.collectors import add_collectors_option

ENV_PREFIX = "PERFMON_"
LOG_LEVELS = ("debug", "info", "warning", "error")
ENV_EPILOG = ("Every option can also be set as PERFMON_<OPTION>, e.g. {example}; "
              "options on the command line win.")


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage error is one line that ends with where help is, not the usage."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with ``PROG: error: MESSAGE (try 'PROG --help')`` on stderr."""
        self.exit(2, f"{self.prog}: error: {message} (try '{self.prog} --help')\n")


def refuse(parser: argparse.ArgumentParser, message: str, status: int = 2) -> NoReturn:
    """Stop with one line that says what to do (no pointer to --help), whatever the parser."""
    parser.exit(status, f"{parser.prog}: error: {message}\n")


def shown(value: float) -> str:
    """A number as a person writes it: 4102444800, 0.1, 96.5 (never 4.10244e+09)."""
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite float within [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:  # also rejects nan
            raise argparse.ArgumentTypeError(f"{text} is outside {shown(low)}..{shown(high)}")
        return value

    return parse


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer within [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low}..{high}")
        return value

    return parse


def http_url(text: str) -> str:
    """An argparse type: an http(s) URL with a host, without a trailing slash."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    return text.strip().rstrip("/")


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
SIZE_UNITS = {"": 1, "b": 1, "k": 2**10, "kib": 2**10, "kb": 10**3, "m": 2**20, "mib": 2**20, "mb": 10**6,
              "g": 2**30, "gib": 2**30, "gb": 10**9, "t": 2**40, "tib": 2**40, "tb": 10**12}
NUMBER_AND_UNIT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*")


def duration(low_seconds: float, high_seconds: float) -> Callable[[str], float]:
    """An argparse type: ``14d``, ``36h``, ``90m``, ``30s``, ``2w``, ``1y`` as seconds within bounds."""

    def parse(text: str) -> float:
        match = NUMBER_AND_UNIT.fullmatch(text)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in DURATION_UNITS:
            raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 14d, 36h, 90m or 30s")
        seconds = float(match.group(1)) * DURATION_UNITS[unit]
        if not low_seconds <= seconds <= high_seconds:
            raise argparse.ArgumentTypeError(
                f"{text} is outside {shown(low_seconds)} s..{shown(high_seconds / 86400)} days")
        return seconds

    return parse


def byte_size(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: ``1GiB``, ``512MiB``, ``500MB``, ``2G`` (K, M, G, T are binary) within bounds."""

    def parse(text: str) -> int:
        match = NUMBER_AND_UNIT.fullmatch(text)
        unit = match.group(2).lower() if match else ""
        if not match or unit not in SIZE_UNITS:
            raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 1GiB, 512MiB or 500MB")
        size = int(float(match.group(1)) * SIZE_UNITS[unit])
        if not low <= size <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low // 2**20} MiB..{high // 2**40} TiB")
        return size

    return parse


def data_dir(text: str) -> Path | None:
    """An argparse type: a directory of perfmon's state, or ``none`` to keep it in memory."""
    value = text.strip()
    if value.lower() == "none":
        return None
    if not value:
        raise argparse.ArgumentTypeError("give a directory, or 'none' to keep everything in memory only")
    return Path(value).expanduser()  # one that cannot be a directory: exit 1 (parse_args)


AUTO = "auto"  # --journal-dir's default: the API server looks for a directory in memory


def journal_dir(text: str) -> Path | str | None:
    """An argparse type: the journal's directory, ``auto`` to find one in memory, or ``none``."""
    value = text.strip()
    if value.lower() in ("none", AUTO):
        return None if value.lower() == "none" else AUTO
    if not value:
        raise argparse.ArgumentTypeError("give a directory in memory, 'auto' or 'none'")
    return Path(value).expanduser()  # made by then, perhaps (systemd's RuntimeDirectory): the store checks


def not_a_directory(path: Path) -> Path | None:
    """The part of ``path`` that exists but is not a directory (so no directory can be made there)."""
    for part in (path, *path.parents):  # the nearest part that exists decides
        try:
            if part.exists():
                return None if part.is_dir() else part
        except OSError:  # not ours to look at: the store says so when it tries
            return None
    return None


def boolean(text: str) -> bool:
    """An environment value for a switch: 1/true/yes/on or 0/false/no/off."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not one of 1, true, yes, on, 0, false, no, off")


def log_level(text: str) -> str:
    """An argparse type: one of LOG_LEVELS, case-insensitive."""
    value = text.strip().lower()
    if value not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(LOG_LEVELS)}")
    return value


def env_name(dest: str) -> str:
    """The environment variable that backs the option stored at ``dest``."""
    return ENV_PREFIX + dest.upper()


def apply_env_defaults(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
    """Use PERFMON_* variables as defaults, validated with the option's own type.

    A bad value is a usage error that names the variable, exactly like a bad flag.
    """
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        name = env_name(action.dest)
        if name not in environ:
            continue
        raw = environ[name]
        switch = action.nargs == 0 and action.const is True  # a store_true flag such as --open
        convert: Callable[[str], Any] = boolean if switch else action.type or str  # type: ignore[assignment]
        try:
            value = convert(raw)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            parser.error(f"environment variable {name}={raw!r}: {exc}")
        parser.set_defaults(**{action.dest: value})


def add_logging_option(parser: argparse.ArgumentParser) -> None:
    """Add --log-level, shared by every entry point."""
    parser.add_argument(
        "--log-level", type=log_level, default="info", metavar="LEVEL",
        help=f"one of {', '.join(LOG_LEVELS)} (default: %(default)s)",
    )


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """Add --interval, --process-interval, --collectors, --history-size: the API server's and launcher's."""
    parser.add_argument("--interval", type=bounded_float(0.1, 3600), default=1.0, metavar="SECONDS",
                        help="seconds between samples, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--process-interval", type=bounded_float(0.1, 3600), default=5.0,
                        metavar="SECONDS",
                        help="seconds between process-table scans (the processes collector's cadence), "
                        "0.1-3600 (default: %(default)s)")
    add_collectors_option(parser)
    parser.add_argument("--history-size", type=bounded_int(10, 86400), default=3600,
                        metavar="SAMPLES",
                        help="samples kept in memory for /api/history, 10-86400 (default: %(default)s)")
    parser.add_argument("--max-waiters", type=bounded_int(1, 1_000_000), default=10_000, metavar="N",
                        help="long-polling requests (?wait=) held at once; more get 503 with Retry-After, "
                        "1-1000000 (default: %(default)s)")
    add_store_options(parser)
    add_alerts_option(parser)


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Add where history is kept and for how long: the API server's and the launcher's."""
    add_data_dir_option(parser)
    keep = duration(3600, 20 * DURATION_UNITS["y"])
    for tier, what, default in (("raw", "every sample is", "14d"), ("minute", "per-minute points are", "90d"),
                                ("hour", "per-hour points are", "2y")):
        parser.add_argument(f"--retention-{tier}", type=keep, default=keep(default), metavar="DURATION",
                            help=f"how long {what} kept, 1h-20y, e.g. 14d or 36h (default: {default})")
    parser.add_argument("--max-db-size", type=byte_size(2**20, 2**50), default=2**30, metavar="SIZE",
                        help="cap on the database file; the oldest samples go first (default: 1GiB)")
    parser.add_argument("--commit-interval", type=bounded_float(0.1, 300), default=None, metavar="SECONDS",
                        help="seconds a sample may wait before it is written to the database, 0.1-300; "
                        "fewer, larger writes spare the disk; without a journal a kill -9 loses at most "
                        "this much (default: 300 with a journal, else 5)")
    parser.add_argument("--journal-dir", type=journal_dir, default=AUTO, metavar="DIR",
                        help="directory in memory (tmpfs) where samples wait for their commit, so a kill -9 "
                        "loses none of them and the disk sees a commit every few minutes; 'none' for no "
                        "journal (default: auto: $XDG_RUNTIME_DIR or /dev/shm, if in memory)")


def add_data_dir_option(parser: argparse.ArgumentParser) -> None:
    """Add --data-dir, perfmon's state: the API's history, the dashboard's sessions (every entry point)."""
    parser.add_argument("--data-dir", type=data_dir, default=default_data_dir(), metavar="DIR",
                        help="directory of perfmon's state (the API's history database, the dashboard's "
                        "sessions), or 'none' to keep it in memory only (default: %(default)s)")


def default_data_dir() -> Path:
    """The user's data directory (~/.local/share/perfmon on Linux), as platformdirs says."""
    return Path(platformdirs.user_data_dir("perfmon", appauthor=False))


def add_poll_option(parser: argparse.ArgumentParser) -> None:
    """Add --poll-interval, shared by the dashboard and the launcher."""
    parser.add_argument("--poll-interval", type=bounded_float(0.25, 3600), default=5.0, metavar="SECONDS",
                        help="seconds between the dashboard's polls, 0.25-3600, rounded to whole sampling "
                             "intervals and timed to come just after a sample (default: %(default)s)")


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """Add --warning-percent and --critical-percent, the colours of the dashboard's cards."""
    parser.add_argument("--warning-percent", type=bounded_float(0, 100), default=80.0, metavar="PERCENT",
                        help="cards turn amber at this usage unless a rule watches it (default: %(default)s)")
    parser.add_argument("--critical-percent", type=bounded_float(0, 100), default=95.0,
                        metavar="PERCENT", help="cards turn red at this usage unless a rule watches it "
                                                "(default: %(default)s)")


HEADER_TIMEOUT_SECONDS = 10.0  # a request head is a few hundred bytes: 10 s is ample on any link
KEEPALIVE_TIMEOUT_SECONDS = 20.0  # above the dashboard's client pool (15 s) and its 5 s poll


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Add --header-timeout and --keepalive-timeout, how long a connection may sit: every server's."""
    parser.add_argument("--header-timeout", type=bounded_float(0.5, 300), default=HEADER_TIMEOUT_SECONDS,
                        metavar="SECONDS",
                        help="close a connection that has not sent a whole request head this long after "
                             "it opened or began a request (slowloris), 0.5-300 (default: %(default)g)")
    parser.add_argument("--keepalive-timeout", type=bounded_float(0.5, 3600),
                        default=KEEPALIVE_TIMEOUT_SECONDS, metavar="SECONDS",
                        help="close a kept-alive connection idle this long after its last answer "
                             "(a long-poll in progress is not idle), 0.5-3600 (default: %(default)g)")


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps at the given level."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
