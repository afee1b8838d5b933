"""The launcher: the API, then the dashboard pointed at it; a health wait; a clean stop; exit codes."""

from __future__ import annotations

import logging
import ssl
import sys
import threading
import time
import webbrowser
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit, urlunsplit

from perfmon.api.edge.limits import raise_open_files_limit
from perfmon.api.server import PortInUse
from perfmon.runtime.probe import Answer, ask, certificate_names
from perfmon.runtime.servers import ApiServerThread, Component, DashboardServerThread, reserve_port
from perfmon.runtime.signals import StopSignals, run_until_stopped, stop_all
from perfmon.sampling import registry
from perfmon.settings import (
    DashboardConfig,
    LauncherConfig,
    Security,
    ServerConfig,
    configure_logging,
    parse_dashboard_config,
    parse_launcher_config,
)
from perfmon.settings.options import shown
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


def wait_until_answering(urls: Mapping[str, str | None], components: Sequence[Component], stop: StopSignals,
                         timeout: float = STARTUP_SECONDS, tls: ssl.SSLContext | None = None) -> str:
    """Poll each url (with its token) until it answers 200; returns "" or why it gave up, with the cause."""
    deadline = time.monotonic() + timeout
    waiting = {url: Answer(None) for url in urls}
    while True:
        waiting = {url: answer for url in waiting if (answer := ask(url, tls, urls[url])).status != 200}
        if not waiting or stop.requested():
            return ""
        dead = [component.name for component in components if not component.is_alive()]
        if dead:
            return f"the {dead[0]} stopped while starting"
        url, answer = next(iter(waiting.items()))
        if answer.permanent:  # a setting is wrong: waiting would only hide it
            return f"{url} {answer.problem}"
        if time.monotonic() > deadline:
            return f"{url} did not come up within {shown(timeout)} s: {answer.problem}"
        stop.wait(0.05)


def shown_url(url: str, names: Sequence[str], security: Security) -> str:
    """url with a host that its certificate's ``names`` carry (the one a browser checks), if it has none."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not names or host in names:
        return url
    allowed = [name for name in names if security.host_allowed(name)]
    chosen = (allowed or list(names))[0]
    netloc = f"[{chosen}]" if ":" in chosen else chosen
    return urlunsplit(parts._replace(netloc=f"{netloc}:{parts.port}" if parts.port else netloc))


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
    # The API's health with the token, as the dashboard asks it; the dashboard's page without.
    targets = {f"{api_url}/api/health": config.api.security.token, dashboard_url: None}
    problem = wait_until_answering(targets, components, stop, tls=tls)
    if problem:
        return fail(problem, components)
    if not stop.requested():
        announce(config, api_url, dashboard_url, tls)
    return run_until_stopped(components, stop)


def announce(config: LauncherConfig, api_url: str, dashboard_url: str, tls: ssl.SSLContext | None) -> None:
    """Print where both servers answer, by a name their certificate carries; open the browser if asked."""
    names = certificate_names(api_url, tls) if tls else []  # both servers serve the same certificate
    api_url, dashboard_url = (shown_url(url, names, config.api.security) for url in (api_url, dashboard_url))
    print(f"perfmon API:       {api_url}/api/performance\n"
          f"perfmon dashboard: {dashboard_url}\nCtrl-C stops both", flush=True)
    if config.open_browser:
        open_in_browser(dashboard_url)


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
        check_api(config)
        url = reachable(dashboard.url)
        if config.security.tls:
            own = client_context(config.security.tls_cert, check_hostname=False)
            url = shown_url(url, certificate_names(url, own, timeout=STARTUP_SECONDS / 6), config.security)
        print(f"perfmon dashboard: {url} (API: {config.api_url})\nCtrl-C stops it", flush=True)
        return run_until_stopped([dashboard], stop)


def check_api(config: DashboardConfig) -> threading.Thread:
    """Ask the API once, in a thread: a WARNING saying why if it does not answer (the dashboard serves on)."""

    def run() -> None:
        tls = client_context(config.api_ca_file, config.api_check_hostname)
        answer = ask(f"{config.api_url}/api/performance", tls, config.security.token)
        if answer.status not in (200, 503):  # 503: up, without a first sample yet
            log.warning("cannot use the API at %s: %s (the dashboard serves anyway and keeps asking)",
                        config.api_url, answer.problem)

    thread = threading.Thread(target=run, name="API check", daemon=True)
    thread.start()
    return thread


def dashboard_main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the dashboard alone against an API that runs elsewhere; returns the exit code."""
    config = parse_dashboard_config(argv, prog=prog)
    configure_logging(config.log_level)
    raise_open_files_limit()  # each idle connection holds a descriptor; 1,024 is a common default
    return serve_dashboard(config)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the API server and the dashboard until Ctrl-C; returns the process exit code."""
    config = parse_launcher_config(argv, prog=prog, collectors=registry.names())
    configure_logging(config.log_level)
    raise_open_files_limit()  # both servers share the process's descriptors
    with StopSignals() as stop:  # from the start, so Ctrl-C while starting stops cleanly too
        return launch(config, stop)
