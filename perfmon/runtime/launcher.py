"""The launcher: the API, then the dashboard pointed at it; a health wait; a clean stop; exit codes."""

from __future__ import annotations

import logging
import ssl
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from perfmon.api.limits import raise_open_files_limit
from perfmon.api.server import PortInUse
from perfmon.runtime.servers import ApiServerThread, Component, DashboardServerThread, reserve_port
from perfmon.runtime.signals import StopSignals, run_until_stopped, stop_all
from perfmon.settings import (
    DashboardConfig,
    LauncherConfig,
    ServerConfig,
    configure_logging,
    parse_dashboard_config,
    parse_launcher_config,
)
from perfmon.settings.security import client_context

log = logging.getLogger(__name__)

STARTUP_SECONDS = 30.0


def reachable(url: str) -> str:
    """The URL with a wildcard listening address replaced by loopback, which clients can connect to."""
    parts = urlsplit(url)
    loopback = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(parts.hostname or "")
    if loopback is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{loopback}:{parts.port}"))


def answers_200(url: str, tls: ssl.SSLContext | None = None) -> bool:
    """Whether GET url answers 200 right now (after redirects, such as to a login page)."""
    try:
        with urllib.request.urlopen(url, timeout=2, context=tls) as response:
            return bool(response.status == 200)
    except OSError:  # refused, reset or timed out; HTTPError (4xx, 5xx) is one too
        return False


def wait_until_answering(urls: Sequence[str], components: Sequence[Component], stop: StopSignals,
                         timeout: float = STARTUP_SECONDS, tls: ssl.SSLContext | None = None) -> str:
    """Poll urls until each answers 200; returns "" or a one-line reason it gave up."""
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    while True:
        waiting = [url for url in waiting if not answers_200(url, tls)]
        if not waiting or stop.requested():
            return ""
        dead = [component.name for component in components if not component.is_alive()]
        if dead:
            return f"the {dead[0]} stopped while starting"
        if time.monotonic() > deadline:
            return f"no answer from {waiting[0]} after {timeout:g} s"
        stop.wait(0.05)


def fail(message: str, components: Sequence[Component] = ()) -> int:
    """Print message as the one error line, stop what was started, and give exit code 1."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    stop_all(components)
    return 1


def open_in_browser(url: str) -> None:
    """Open url in the default browser, in a thread: a console browser would block until quit."""

    def run() -> None:
        if not webbrowser.open(url):
            log.warning("no web browser found: open %s yourself", url)

    threading.Thread(target=run, name="browser", daemon=True).start()


def launch(config: LauncherConfig, stop: StopSignals) -> int:
    """Start the API, then the dashboard pointed at it; serve until stopped; returns the exit code."""
    # The dashboard's port first: if it is taken, nothing has started that must be stopped.
    try:
        config.api.security.server_context()  # an unusable certificate: one line before anything starts
        dashboard_socket = reserve_port(config.dashboard.host, config.dashboard.port, "--dashboard-port")
    except (PortInUse, ValueError) as exc:
        return fail(str(exc))
    api = ApiServerThread(config.api)
    api.start()
    if not api.wait_listening(STARTUP_SECONDS):
        dashboard_socket.close()
        return fail(api.error or "the API server did not start", [api])
    # The dashboard needs the API's real URL (its port may have been 0), at an address it can
    # connect to: a wildcard address (0.0.0.0, ::) listens on loopback too.
    api_url = reachable(api.url)
    try:
        dashboard = DashboardServerThread(own_api(config.dashboard, api_url), dashboard_socket)
    except ValueError as exc:  # its sessions cannot be kept in the data directory: one line
        dashboard_socket.close()
        return fail(str(exc), [api])
    dashboard.start()
    dashboard_url = reachable(dashboard.url)
    components: list[Component] = [api, dashboard]
    warn_if_open(config.api, config.dashboard)
    own = own_api(config.dashboard, api_url)
    tls = client_context(own.api_ca_file, check_hostname=False) if config.api.security.tls else None
    problem = wait_until_answering([f"{api_url}/api/health", dashboard_url], components, stop, tls=tls)
    if problem:
        return fail(problem, components)
    if not stop.requested():
        print(f"perfmon API:       {api_url}/api/performance\n"
              f"perfmon dashboard: {dashboard_url}\nCtrl-C stops both", flush=True)
        if config.open_browser:
            open_in_browser(dashboard_url)
    return run_until_stopped(components, stop)


def own_api(config: DashboardConfig, api_url: str) -> DashboardConfig:
    """The dashboard's settings for the launcher's own API: its URL, and its certificate trusted as is."""
    if not config.security.tls:
        return replace(config, api_url=api_url)
    # On loopback, the certificate's names (the host users reach) do not include 127.0.0.1.
    return replace(config, api_url=api_url, api_ca_file=config.api_ca_file or config.security.tls_cert,
                   api_check_hostname=False)


def warn_if_open(*configs: ServerConfig | DashboardConfig) -> None:
    """A WARNING at every start for each server open to the network without a token."""
    for config in configs:
        warning = config.security.open_warning(config.host, config.port)
        if warning:
            log.warning(warning)


def serve_dashboard(config: DashboardConfig) -> int:
    """Serve only the dashboard until SIGINT or SIGTERM; returns the exit code."""
    with StopSignals() as stop:
        try:
            config.security.server_context()  # an unusable certificate: one line
            dashboard = DashboardServerThread(config, port_flag="--port")
        except (PortInUse, ValueError) as exc:
            return fail(str(exc))
        warn_if_open(config)
        dashboard.start()
        print(f"perfmon dashboard: {dashboard.url} (API: {config.api_url})\nCtrl-C stops it", flush=True)
        return run_until_stopped([dashboard], stop)


def dashboard_main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the dashboard alone against an API that runs elsewhere; returns the exit code."""
    config = parse_dashboard_config(argv, prog=prog)
    configure_logging(config.log_level)
    raise_open_files_limit()  # each idle connection holds a descriptor; 1,024 is a common default
    return serve_dashboard(config)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the API server and the dashboard until Ctrl-C; returns the process exit code."""
    config = parse_launcher_config(argv, prog=prog)
    configure_logging(config.log_level)
    raise_open_files_limit()  # both servers share the process's descriptors
    with StopSignals() as stop:  # from the start, so Ctrl-C while starting stops cleanly too
        return launch(config, stop)
