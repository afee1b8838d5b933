"""Settings: built once from the command line and PERFMON_* variables, then frozen.

Every flag ``--some-flag`` can also be set as ``PERFMON_SOME_FLAG``; a flag on the
command line wins over the environment. One variable means one thing in every entry
point, so the dashboard's ``--port`` is ``PERFMON_DASHBOARD_PORT`` (as the launcher's
``--dashboard-port``), never the API server's ``PERFMON_PORT``. Nothing else in the
package reads os.environ; ``api``, ``ui`` and ``runtime`` read these settings, and pass
plain values to ``core``, ``sampling`` and ``store``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfmon.alerts.model import AlertsFile
from perfmon.settings.alerts import builtin, read_alerts_option
from perfmon.settings.collectors import unknown_collector
from perfmon.settings.environment import Environment, option_variables, unread_variables
from perfmon.settings.options import (
    ENV_EPILOG,
    HEADER_TIMEOUT_SECONDS,
    KEEPALIVE_TIMEOUT_SECONDS,
    Parser,
    add_connection_options,
    add_data_dir_option,
    add_logging_option,
    add_poll_option,
    add_sampling_options,
    add_threshold_options,
    apply_env_defaults,
    bounded_int,
    configure_logging,
    http_url,
    not_a_directory,
    refuse,
    shown,
)
from perfmon.settings.security import Security, add_security_options, security_from_args
from perfmon.settings.token import parser as token_parser
from perfmon.settings.unit_options import install_unit_parser

DATABASE_NAME = "history.sqlite3"

__all__ = [
    "DashboardConfig",
    "LauncherConfig",
    "Security",
    "ServerConfig",
    "configure_logging",
    "dashboard_parser",
    "launcher_parser",
    "parse_dashboard_config",
    "parse_launcher_config",
    "parse_server_config",
    "server_parser",
]


@dataclass(frozen=True)
class ServerConfig:
    """Settings of the API server."""

    host: str = "127.0.0.1"
    port: int = 8000
    interval_seconds: float = 1.0
    process_interval_seconds: float = 5.0
    history_size: int = 3600
    log_level: str = "info"
    data_dir: Path | None = None  # None: history in memory only (the command line's default is a directory)
    retention_raw_seconds: float = 14 * 86400
    retention_minute_seconds: float = 90 * 86400
    retention_hour_seconds: float = 730 * 86400
    max_db_bytes: int = 2**30
    commit_interval_seconds: float | None = None  # None: the store's default (with a journal or without)
    journal_dir: Path | str | None = None  # "auto": one in memory, if any (the command line's default)
    max_waiters: int = 10_000
    header_timeout_seconds: float = HEADER_TIMEOUT_SECONDS
    keepalive_timeout_seconds: float = KEEPALIVE_TIMEOUT_SECONDS
    collectors: tuple[str, ...] = ()  # --collectors as given: () the defaults (see settings.collectors)
    collector_intervals: tuple[tuple[str, float], ...] = ()  # (name, seconds) over the registry's cadences
    security: Security = field(default_factory=Security)
    alerts: AlertsFile = field(default_factory=builtin)  # the rules (--alerts-file, or the built-in ones)

    @property
    def database(self) -> Path | None:
        """The history database file, if history is kept on disk."""
        return None if self.data_dir is None else self.data_dir / DATABASE_NAME


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
    header_timeout_seconds: float = HEADER_TIMEOUT_SECONDS
    keepalive_timeout_seconds: float = KEEPALIVE_TIMEOUT_SECONDS
    security: Security = field(default_factory=Security)
    api_ca_file: Path | None = None  # CAs to verify an HTTPS API with; None: the system's
    api_check_hostname: bool = True  # False only for the launcher's hop to its own API (see client_context)
    data_dir: Path | None = None  # sessions kept there; None: in memory (the command line gives a directory)


@dataclass(frozen=True)
class LauncherConfig:
    """Settings of the launcher: one API server and one dashboard."""

    api: ServerConfig
    dashboard: DashboardConfig
    open_browser: bool = False
    log_level: str = "info"


def server_parser(prog: str = "performance_api_server.py") -> argparse.ArgumentParser:
    """The command-line parser of the API server."""
    parser = Parser(
        prog=prog,
        description="Serve host performance metrics sampled with psutil as JSON over HTTP.",
        epilog=ENV_EPILOG.format(example="PERFMON_PORT=9000"),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: %(default)s, loopback only)")
    parser.add_argument("--port", type=bounded_int(0, 65535), default=8000,
                        help="TCP port, 0 for any free port (default: %(default)s)")
    add_sampling_options(parser)
    add_connection_options(parser)
    add_security_options(parser)
    add_logging_option(parser)
    return parser


def dashboard_parser(prog: str = "performance_dashboard_http_polling.py") -> argparse.ArgumentParser:
    """The command-line parser of the dashboard."""
    parser = Parser(
        prog=prog,
        description="Serve a live dashboard of a perfmon API in the browser (Dash, served by uvicorn).",
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
    add_data_dir_option(parser)
    add_connection_options(parser)
    add_security_options(parser, cors=False, api_ca=True)
    add_logging_option(parser)
    return parser


def launcher_parser(prog: str = "run_http_polling_system.py") -> argparse.ArgumentParser:
    """The command-line parser of the launcher: every API option and every dashboard option."""
    parser = Parser(
        prog=prog,
        description="Run the perfmon API server and its dashboard together; Ctrl-C stops both.",
        epilog=ENV_EPILOG.format(example="PERFMON_DASHBOARD_PORT=8060"),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address both servers listen on (default: %(default)s, loopback only)")
    parser.add_argument("--api-port", type=bounded_int(0, 65535), default=8000,
                        help="API server port, 0 for any free port (default: %(default)s)")
    parser.add_argument("--dashboard-port", type=bounded_int(0, 65535), default=8050,
                        help="dashboard port, 0 for any free port (default: %(default)s)")
    add_sampling_options(parser)
    add_poll_option(parser)
    add_threshold_options(parser)
    parser.add_argument("--open", action="store_true",
                        help="open the dashboard in the default web browser once it is up")
    add_connection_options(parser)
    add_security_options(parser, api_ca=True)
    add_logging_option(parser)
    return parser


def parse_server_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                        prog: str | None = None, collectors: Sequence[str] = ()) -> ServerConfig:
    """Build the server's frozen config; exits 2 with one line on bad input.

    ``collectors`` are the registered collectors' names (the entry point has them), which
    ``--collectors`` may name; none given: its names are not checked here.
    """
    parser, variables = server_parser(*[prog] if prog else []), Environment(env(environ))
    args = parse_args(parser, argv, variables, collectors)
    config = server_config(args, args.port, security_from_args(parser, args, variables))
    warn_unread(parser, variables)
    return config


def parse_dashboard_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                           prog: str | None = None) -> DashboardConfig:
    """Build the dashboard's frozen config; exits 2 with one line on bad input."""
    parser, variables = dashboard_parser(*[prog] if prog else []), Environment(env(environ))
    args = parse_args(parser, argv, variables)
    config = dashboard_config(args, args.api_url, security_from_args(parser, args, variables))
    warn_unread(parser, variables)
    return config


def parse_launcher_config(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
                          prog: str | None = None, collectors: Sequence[str] = ()) -> LauncherConfig:
    """Build the launcher's frozen config; exits 2 with one line on bad input (``collectors``: as above)."""
    parser, variables = launcher_parser(*[prog] if prog else []), Environment(env(environ))
    args = parse_args(parser, argv, variables, collectors)
    if args.api_port == args.dashboard_port != 0:  # both servers listen on --host
        parser.error(f"the API and the dashboard would both listen on port {args.api_port}: give "
                     "--api-port and --dashboard-port different ports (or 0 for any free one)")
    security = security_from_args(parser, args, variables)
    warn_unread(parser, variables)
    # The API's URL is known once it listens (its port may be 0): the launcher fills it in.
    return LauncherConfig(api=server_config(args, args.api_port, security),
                          dashboard=dashboard_config(args, "", security), open_browser=args.open,
                          log_level=args.log_level)


def env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    """The environment the settings read: the real one unless a test gives its own."""
    return os.environ if environ is None else environ


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
               environ: Mapping[str, str], collectors: Sequence[str] = ()) -> argparse.Namespace:
    """Parse the command line over PERFMON_* defaults; check what single options cannot."""
    apply_env_defaults(parser, environ)
    args = parser.parse_args(argv)
    unknown = unknown_collector(getattr(args, "collectors", ()), collectors,
                                getattr(args, "collector_intervals", ())) if collectors else None
    if unknown:
        parser.error(unknown)
    blocker = not_a_directory(args.data_dir) if getattr(args, "data_dir", None) else None
    if blocker is not None:  # an unusable data directory is a runtime failure (exit 1), said before any start
        refuse(parser, f"cannot keep perfmon's state in --data-dir {args.data_dir}: {blocker} is a file, "
                       "not a directory; choose another --data-dir (or --data-dir none for memory only)",
               status=1)
    held = getattr(args, "history_size", 0) * getattr(args, "interval", 0)
    if (getattr(args, "commit_interval", None) or 0) > held:  # rows not yet written are answered from memory
        parser.error(f"--commit-interval {shown(args.commit_interval)} is longer than the "
                     f"{shown(held)} s of samples kept in memory (--history-size {args.history_size} x "
                     f"--interval {shown(args.interval)}): choose a shorter --commit-interval")
    if hasattr(args, "alerts_file"):
        read_alerts_option(parser, args)
    if getattr(args, "warning_percent", 0) > getattr(args, "critical_percent", 100):
        parser.error(f"--warning-percent {shown(args.warning_percent)} is above "
                     f"--critical-percent {shown(args.critical_percent)}")
    return args


def warn_unread(parser: argparse.ArgumentParser, variables: Environment) -> None:
    """One warning line on stderr for each PERFMON_* variable this entry point did not read."""
    elsewhere = set().union(*(option_variables(make()) for make in PARSERS))
    for warning in unread_variables(variables, elsewhere, parser.prog):
        print(f"{parser.prog}: warning: {warning}", file=sys.stderr, flush=True)


def server_config(args: argparse.Namespace, port: int, security: Security) -> ServerConfig:
    """The API server's settings from parsed options (of the server or the launcher)."""
    return ServerConfig(host=args.host, port=port, interval_seconds=args.interval,
                        process_interval_seconds=args.process_interval, collectors=args.collectors,
                        collector_intervals=args.collector_intervals,
                        history_size=args.history_size,
                        log_level=args.log_level, data_dir=args.data_dir,
                        retention_raw_seconds=args.retention_raw,
                        retention_minute_seconds=args.retention_minute,
                        retention_hour_seconds=args.retention_hour, max_db_bytes=args.max_db_size,
                        commit_interval_seconds=args.commit_interval,
                        journal_dir=None if args.data_dir is None else args.journal_dir,  # no file: none
                        max_waiters=args.max_waiters, header_timeout_seconds=args.header_timeout,
                        keepalive_timeout_seconds=args.keepalive_timeout, security=security,
                        alerts=args.alerts)


def dashboard_config(args: argparse.Namespace, api_url: str, security: Security) -> DashboardConfig:
    """The dashboard's settings from parsed options (of the dashboard or the launcher)."""
    return DashboardConfig(host=args.host, port=args.dashboard_port, api_url=api_url,
                           poll_interval_seconds=args.poll_interval, warning_percent=args.warning_percent,
                           critical_percent=args.critical_percent, log_level=args.log_level,
                           security=security, api_ca_file=args.api_ca_file, data_dir=args.data_dir,
                           header_timeout_seconds=args.header_timeout,
                           keepalive_timeout_seconds=args.keepalive_timeout)


# Every entry point's options (perfmon token's and install-unit's too), so each knows the others' variables.
PARSERS = (server_parser, dashboard_parser, launcher_parser, token_parser, install_unit_parser)
