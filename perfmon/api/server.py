"""Serving the API: bind (port 0 picks one), serve until a signal, and the command-line entry point."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from collections.abc import Sequence

from aiohttp import web

from perfmon.api.app import create_app
from perfmon.api.limits import install_accept_error_limiter, raise_open_files_limit
from perfmon.api.protocol import ApiRunner
from perfmon.settings import ServerConfig, configure_logging, parse_server_config
from perfmon.store.base import StoreError

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_SECONDS = 3.0


class StartupError(Exception):
    """The server cannot start; ``str()`` is the one line to show the user."""


class PortInUse(StartupError):
    """The listening address is taken."""


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
                       shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS)
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
    config = parse_server_config(argv, prog=prog)
    configure_logging(config.log_level)
    raise_open_files_limit()  # each idle connection holds a descriptor; 1,024 is a common default
    try:
        asyncio.run(serve(config))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
