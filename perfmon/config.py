"""Configuration: built once from the command line and PERFMON_* variables, then frozen.

Every flag ``--some-flag`` can also be set as ``PERFMON_SOME_FLAG``; a flag on the
command line wins over the environment. Nothing else in the package reads os.environ.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "PERFMON_"
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class ServerConfig:
    """Settings of the API server."""

    host: str = "127.0.0.1"
    port: int = 8000
    interval_seconds: float = 1.0
    process_interval_seconds: float = 5.0
    history_size: int = 3600
    log_level: str = "info"


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
        convert: Callable[[str], Any] = action.type or str  # type: ignore[assignment]
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


def server_parser() -> argparse.ArgumentParser:
    """The command-line parser of the API server."""
    parser = argparse.ArgumentParser(
        prog="performance_api_server.py",
        description="Serve host performance metrics sampled with psutil as JSON over HTTP.",
        epilog="Every option can also be set as PERFMON_<OPTION>, e.g. PERFMON_PORT=9000; "
        "options on the command line win.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=bounded_int(0, 65535), default=8000,
                        help="TCP port, 0 for any free port (default: %(default)s)")
    parser.add_argument("--interval", type=bounded_float(0.1, 3600), default=1.0,
                        metavar="SECONDS", help="seconds between samples, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--process-interval", type=bounded_float(0.1, 3600), default=5.0,
                        metavar="SECONDS",
                        help="seconds between process-table scans, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--history-size", type=bounded_int(10, 86400), default=3600,
                        metavar="SAMPLES",
                        help="samples kept in memory for /api/history, 10-86400 (default: %(default)s)")
    add_logging_option(parser)
    return parser


def parse_server_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> ServerConfig:
    """Build the server's frozen config; exits 2 with usage on bad input."""
    parser = server_parser()
    apply_env_defaults(parser, os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    return ServerConfig(
        host=args.host,
        port=args.port,
        interval_seconds=args.interval,
        process_interval_seconds=args.process_interval,
        history_size=args.history_size,
        log_level=args.log_level,
    )


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps at the given level."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
