"""Option types and the PERFMON_* environment: shared by every entry point's parser."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "PERFMON_"
LOG_LEVELS = ("debug", "info", "warning", "error")
ENV_EPILOG = ("Every option can also be set as PERFMON_<OPTION>, e.g. {example}; "
              "options on the command line win.")


def bounded_float(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite float within [low, high]."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:  # also rejects nan
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g}")
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
    """Add --interval, --process-interval and --history-size: the API server's and the launcher's."""
    parser.add_argument("--interval", type=bounded_float(0.1, 3600), default=1.0, metavar="SECONDS",
                        help="seconds between samples, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--process-interval", type=bounded_float(0.1, 3600), default=5.0,
                        metavar="SECONDS",
                        help="seconds between process-table scans, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--history-size", type=bounded_int(10, 86400), default=3600,
                        metavar="SAMPLES",
                        help="samples kept in memory for /api/history, 10-86400 (default: %(default)s)")


def add_poll_option(parser: argparse.ArgumentParser) -> None:
    """Add --poll-interval, shared by the dashboard and the launcher."""
    parser.add_argument("--poll-interval", type=bounded_float(0.5, 3600), default=5.0, metavar="SECONDS",
                        help="seconds between the dashboard's polls, 0.5-3600 (default: %(default)s)")


def add_threshold_options(parser: argparse.ArgumentParser) -> None:
    """Add --warning-percent and --critical-percent, the colours of the dashboard's cards."""
    parser.add_argument("--warning-percent", type=bounded_float(0, 100), default=80.0, metavar="PERCENT",
                        help="cards turn amber at this usage (default: %(default)s)")
    parser.add_argument("--critical-percent", type=bounded_float(0, 100), default=95.0,
                        metavar="PERCENT", help="cards turn red at this usage (default: %(default)s)")


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps at the given level."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
