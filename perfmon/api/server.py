"""Serving the API: bind (port 0 picks one), serve until a signal, and the command-line entry point."""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from perfmon.api.app import create_app
from perfmon.api.edge.connection import ApiRunner
from perfmon.api.edge.limits import LogLimiter, install_accept_error_limiter, raise_open_files_limit
from perfmon.core.connections import Connections, OpenConnections, high_water_mark
from perfmon.sampling import registry
from perfmon.settings import ServerConfig, configure_logging, parse_server_config
from perfmon.store.base import StoreError

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_SECONDS = 3.0
SHED_LOG_WINDOW_SECONDS = 60.0


class StartupError(Exception):
    """The server cannot start; ``str()`` is the one line to show the user."""


class PortInUse(StartupError):
    """The listening address is taken."""


@functools.cache
def open_connections() -> OpenConnections:
    """The count of this process's connections (both servers of the launcher), with its high-water
    mark from the soft open-files limit as it is when the first server starts (after raising it)."""
    try:
        import resource  # POSIX only
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        soft = -1 if soft == resource.RLIM_INFINITY else soft
    except (ImportError, OSError, ValueError):
        soft = -1  # unknown: no shedding, the timeouts still close idle connections
    total = OpenConnections(high_water_mark(soft))
    log.debug("idle connections are shed above %d open connections (open-files limit %d)",
              total.high_water, soft)
    return total


def connections(server: str) -> Connections:
    """A table for one server's connections, counted against the process's limit; shedding is logged."""
    total, limiter = open_connections(), LogLimiter(SHED_LOG_WINDOW_SECONDS)

    def logged(closed: int, still_open: int) -> None:
        limiter.warning(log, "the %s closed %d idle connections: %d connections are open in this process, "
                        "near its open-files limit (shedding starts above %d; raise `ulimit -n` if these "
                        "are real clients)", server, closed, still_open, total.high_water)

    return Connections(total, logged)


async def start(config: ServerConfig, app: web.Application | None = None,
                port_flag: str = "--port") -> tuple[web.AppRunner, str]:
    """Start serving; return the runner and the URL actually bound (port 0 picks one).

    ``port_flag`` is the option a user changes to pick another port, named in PortInUse.
    """
    app = app or create_app(config)
    # An access log line per request costs more than the request itself: debug level only.
    access_log = logging.getLogger("aiohttp.access") if config.log_level == "debug" else None
    # Out of descriptors, asyncio would log a traceback per failed accept: one line per 10 s instead.
    install_accept_error_limiter(asyncio.get_running_loop())
    runner = ApiRunner(app, handle_signals=False, access_log=access_log,
                       shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS, connections=connections("API"),
                       header_timeout=config.header_timeout_seconds,
                       keepalive_timeout=config.keepalive_timeout_seconds)
    try:
        await runner.setup()  # makes the Monitor: opens the history database
    except StoreError as exc:
        raise StartupError(str(exc)) from None
    try:
        tls = config.security.server_context()
    except ValueError as exc:
        await runner.cleanup()
        raise StartupError(str(exc)) from None
    site = web.TCPSite(runner, config.host, config.port, ssl_context=tls)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {config.port} on {config.host} is already in use: "
                            f"stop what is using it or pass {port_flag}") from None
        raise PortInUse(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from None
    host, port = runner.addresses[0][:2]
    shown = f"[{host}]" if ":" in host else host
    return runner, f"{'https' if tls else 'http'}://{shown}:{port}"


async def serve(config: ServerConfig) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner, url = await start(config)
    warning = config.security.open_warning(config.host, config.port)
    if warning:
        log.warning(warning)
    log.info("perfmon API listening on %s (sampling every %g s); Ctrl-C stops it",
             url, config.interval_seconds)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await runner.cleanup()


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the API server; returns the process exit code."""
    config = parse_server_config(argv, prog=prog, collectors=registry.names())
    configure_logging(config.log_level)
    raise_open_files_limit()  # each idle connection holds a descriptor; 1,024 is a common default
    try:
        asyncio.run(serve(config))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
