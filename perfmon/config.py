"""Configuration: built once from the command line and PERFMON_* variables, then frozen.

Every flag ``--some-flag`` can also be set as ``PERFMON_SOME_FLAG``; a flag on the
command line wins over the environment. One variable means one thing in every entry
point, so the dashboard's ``--port`` is ``PERFMON_DASHBOARD_PORT`` (as the launcher's
``--dashboard-port``), never the API server's ``PERFMON_PORT``. Nothing else in the
package reads os.environ.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "PERFMON_"
LOG_LEVELS = ("debug", "info", "warning", "error")
ENV_EPILOG = ("Every option can also be set as PERFMON_<OPTION>, e.g. {example}; "
              "options on the command line win.")


@dataclass(frozen=True)
class ServerConfig:
    """Settings of the API server."""

    host: str = "127.0.0.1"
    port: int = 8000
    interval_seconds: float = 1.0
    process_interval_seconds: float = 5.0
    history_size: int = 3600
    log_level: str = "info"


@dataclass(frozen=True)
class DashboardConfig:
    """Settings of the Dash dashboard."""

    host: str = "127.0.0.1"
    port: int = 8050
    api_url: str = "http://127.0.0.1:8000"
    poll_interval_seconds: float = 5.0
    warning_percent: float = 80.0
    critical_percent: float = 95.0
    log_level: str = "info"


@dataclass(frozen=True)
class LauncherConfig:
    """Settings of the launcher: one API server and one dashboard."""

    api: ServerConfig
    dashboard: DashboardConfig
    open_browser: bool = False
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


def server_parser() -> argparse.ArgumentParser:
    """The command-line parser of the API server."""
    parser = argparse.ArgumentParser(
        prog="performance_api_server.py",
        description="Serve host performance metrics sampled with psutil as JSON over HTTP.",
        epilog=ENV_EPILOG.format(example="PERFMON_PORT=9000"),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=bounded_int(0, 65535), default=8000,
                        help="TCP port, 0 for any free port (default: %(default)s)")
    add_interval_option(parser)
    parser.add_argument("--process-interval", type=bounded_float(0.1, 3600), default=5.0,
                        metavar="SECONDS",
                        help="seconds between process-table scans, 0.1-3600 (default: %(default)s)")
    parser.add_argument("--history-size", type=bounded_int(10, 86400), default=3600,
                        metavar="SAMPLES",
                        help="samples kept in memory for /api/history, 10-86400 (default: %(default)s)")
    add_logging_option(parser)
    return parser


def add_interval_option(parser: argparse.ArgumentParser) -> None:
    """Add --interval, shared by the API server and the launcher."""
    parser.add_argument("--interval", type=bounded_float(0.1, 3600), default=1.0, metavar="SECONDS",
                        help="seconds between samples, 0.1-3600 (default: %(default)s)")


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


def parse_server_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> ServerConfig:
    """Build the server's frozen config; exits 2 with usage on bad input."""
    args = parse_args(server_parser(), argv, environ)
    return ServerConfig(
        host=args.host,
        port=args.port,
        interval_seconds=args.interval,
        process_interval_seconds=args.process_interval,
        history_size=args.history_size,
        log_level=args.log_level,
    )


def dashboard_parser() -> argparse.ArgumentParser:
    """The command-line parser of the dashboard."""
    parser = argparse.ArgumentParser(
        prog="performance_dashboard_http_polling.py",
        description="Serve a live dashboard of a perfmon API in the browser (Dash, served by waitress).",
        epilog=ENV_EPILOG.format(example="PERFMON_API_URL=http://127.0.0.1:9000"),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s, loopback only)")
    # dest dashboard_port: its variable is PERFMON_DASHBOARD_PORT, as for the launcher, so it
    # never collides with the API server's PERFMON_PORT.
    parser.add_argument("--port", dest="dashboard_port", type=bounded_int(0, 65535), default=8050,
                        help="TCP port, 0 for any free port; variable PERFMON_DASHBOARD_PORT "
                        "(default: %(default)s)")
    parser.add_argument("--api-url", type=http_url, default="http://127.0.0.1:8000", metavar="URL",
                        help="base URL of the perfmon API (default: %(default)s)")
    add_poll_option(parser)
    add_threshold_options(parser)
    add_logging_option(parser)
    return parser


def parse_dashboard_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> DashboardConfig:
    """Build the dashboard's frozen config; exits 2 with usage on bad input."""
    args = parse_args(dashboard_parser(), argv, environ)
    return dashboard_config(args, api_url=args.api_url)


def launcher_parser() -> argparse.ArgumentParser:
    """The command-line parser of the launcher."""
    parser = argparse.ArgumentParser(
        prog="run_http_polling_system.py",
        description="Run the perfmon API server and its dashboard together; Ctrl-C stops both.",
        epilog=ENV_EPILOG.format(example="PERFMON_DASHBOARD_PORT=8060"),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address both servers listen on (default: %(default)s, loopback only)")
    parser.add_argument("--api-port", type=bounded_int(0, 65535), default=8000,
                        help="API server port, 0 for any free port (default: %(default)s)")
    parser.add_argument("--dashboard-port", type=bounded_int(0, 65535), default=8050,
                        help="dashboard port, 0 for any free port (default: %(default)s)")
    add_interval_option(parser)
    add_poll_option(parser)
    add_threshold_options(parser)
    parser.add_argument("--open", action="store_true",
                        help="open the dashboard in the default web browser once it is up")
    add_logging_option(parser)
    return parser


def parse_launcher_config(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> LauncherConfig:
    """Build the launcher's frozen config; exits 2 with usage on bad input."""
    args = parse_args(launcher_parser(), argv, environ)
    api = ServerConfig(host=args.host, port=args.api_port, interval_seconds=args.interval,
                       log_level=args.log_level)
    # The API's URL is known once it listens (its port may be 0): the launcher fills it in.
    return LauncherConfig(api=api, dashboard=dashboard_config(args, api_url=""), open_browser=args.open,
                          log_level=args.log_level)


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
               environ: Mapping[str, str] | None) -> argparse.Namespace:
    """Parse the command line over PERFMON_* defaults; check what single options cannot."""
    apply_env_defaults(parser, os.environ if environ is None else environ)
    args = parser.parse_args(argv)
    if getattr(args, "warning_percent", 0) > getattr(args, "critical_percent", 100):
        parser.error(f"--warning-percent {args.warning_percent:g} is above "
                     f"--critical-percent {args.critical_percent:g}")
    return args


def dashboard_config(args: argparse.Namespace, api_url: str) -> DashboardConfig:
    """The dashboard's settings from parsed options (of the dashboard or the launcher)."""
    return DashboardConfig(
        host=args.host,
        port=args.dashboard_port,
        api_url=api_url,
        poll_interval_seconds=args.poll_interval,
        warning_percent=args.warning_percent,
        critical_percent=args.critical_percent,
        log_level=args.log_level,
    )


def configure_logging(level: str) -> None:
    """Log to stderr with timestamps at the given level."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
