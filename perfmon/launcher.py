"""Run the API server and the dashboard in one process: one thread each, signals on the main thread."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Sequence
from dataclasses import replace
from types import FrameType
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import waitress
from waitress import wasyncore

from perfmon.config import (
    DashboardConfig,
    LauncherConfig,
    ServerConfig,
    configure_logging,
    parse_launcher_config,
)
from perfmon.dashboard import create_dash_app
from perfmon.server import PortInUse, start

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_SECONDS = 0.2  # how often the main thread looks at signals and threads: bounds stop latency
STOP_SECONDS = 4.0  # for all components together, so a stop takes under 5 s
WAITRESS_DRAIN_SECONDS = 3.0  # requests in flight get this long; within STOP_SECONDS
STARTUP_SECONDS = 30.0


class Component(Protocol):
    """A server running in its own thread."""

    name: str

    def is_alive(self) -> bool: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class ApiServerThread(threading.Thread):
    """The aiohttp API server on its own event loop in its own thread."""

    def __init__(self, config: ServerConfig, port_flag: str = "--api-port") -> None:
        super().__init__(name="API server", daemon=True)
        self.config = config
        self.port_flag = port_flag
        self.url = ""  # set once listening
        self.error = ""  # one line, set if it could not listen
        self.started_or_failed = threading.Event()
        # A loop_factory keeps the loop from becoming the creating (main) thread's current loop.
        self._runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
        self._loop = self._runner.get_loop()  # created now so stop() works before run() does
        self._stopping = asyncio.Event()

    def run(self) -> None:
        """Serve until stop(); the runner also shuts down the loop's default executor."""
        with self._runner:
            self._runner.run(self._serve())

    async def _serve(self) -> None:
        try:
            runner, self.url = await start(self.config, port_flag=self.port_flag)
        except PortInUse as exc:
            self.error = str(exc)
            return
        finally:
            self.started_or_failed.set()
        try:
            await self._stopping.wait()
        finally:
            await runner.cleanup()

    def wait_listening(self, timeout: float) -> bool:
        """Block until the server listens (True) or failed or timed out (False)."""
        return self.started_or_failed.wait(timeout) and bool(self.url)

    def stop(self) -> None:
        """Ask the server to stop; returns at once, join() waits."""
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing to stop
            self._loop.call_soon_threadsafe(self._stopping.set)


class DashboardServerThread(threading.Thread):
    """The Dash app served by waitress in its own thread, on a socket bound before the thread starts."""

    def __init__(self, config: DashboardConfig, sock: socket.socket | None = None,
                 port_flag: str = "--dashboard-port") -> None:
        super().__init__(name="dashboard", daemon=True)
        self.config = config
        sock = sock or reserve_port(config.host, config.port, port_flag)
        host, port = sock.getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
        self._map: dict[int, Any] = {}  # ours, so run() can close every socket waitress opened
        self._server = waitress.create_server(create_dash_app(config).server, map=self._map,
                                              sockets=[sock], ident="perfmon")
        self._stopping = threading.Event()

    def run(self) -> None:
        """Serve until stop(), then close every socket and let requests in flight finish."""
        # waitress's own run() only returns once its socket map is empty, which an open
        # keep-alive connection prevents; so poll the map ourselves and close it from here.
        try:
            while self._map and not self._stopping.is_set():
                wasyncore.loop(timeout=POLL_SECONDS, map=self._map, count=1)
        finally:
            wasyncore.close_all(self._map, ignore_all=True)
            self._server.task_dispatcher.shutdown(timeout=WAITRESS_DRAIN_SECONDS)

    def stop(self) -> None:
        """Ask the server to stop; returns at once, join() waits."""
        self._stopping.set()


def reserve_port(host: str, port: int, port_flag: str) -> socket.socket:
    """Listen on host:port now, so a taken port is reported before anything starts; raises PortInUse."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use: "
                            f"stop what is using it or pass {port_flag}") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


class StopSignals:
    """While entered, SIGINT and SIGTERM request a stop instead of interrupting the main thread."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.event = threading.Event()  # lets another thread (or a test) request a stop
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        # Only append: Event.set() in a handler deadlocks if the signal lands while the main
        # thread holds that Event's lock, and raising would leave from wherever it was.
        self.received.append(signum)

    def requested(self) -> bool:
        """Whether a signal arrived or another thread asked to stop."""
        return bool(self.received) or self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to seconds (less if another thread asks); True once a stop is requested."""
        self.event.wait(seconds)
        return self.requested()


def stop_all(components: Sequence[Component], timeout: float = STOP_SECONDS) -> bool:
    """Stop every component together, all within timeout; False if one is still running."""
    for component in components:
        component.stop()
    deadline = time.monotonic() + timeout
    for component in components:
        component.join(max(0.0, deadline - time.monotonic()))
    running = [component.name for component in components if component.is_alive()]
    if running:
        log.warning("still running after %g s, abandoned: %s", timeout, ", ".join(running))
    return not running


def run_until_stopped(components: Sequence[Component], stop: StopSignals) -> int:
    """Wait for a stop request or a component dying, then stop them all; returns the exit code."""
    dead = None
    while dead is None and not stop.wait(POLL_SECONDS):
        dead = next((component for component in components if not component.is_alive()), None)
    if dead is not None:
        log.error("the %s stopped unexpectedly: stopping the rest", dead.name)
    stop_all(components)
    return 1 if dead is not None else 0


def reachable(url: str) -> str:
    """The URL with a wildcard listening address replaced by loopback, which clients can connect to."""
    parts = urlsplit(url)
    loopback = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(parts.hostname or "")
    if loopback is None:
        return url
    return urlunsplit(parts._replace(netloc=f"{loopback}:{parts.port}"))


def answers_200(url: str) -> bool:
    """Whether GET url answers 200 right now."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:  # refused, reset or timed out; HTTPError (4xx, 5xx) is one too
        return False


def wait_until_answering(urls: Sequence[str], components: Sequence[Component], stop: StopSignals,
                         timeout: float = STARTUP_SECONDS) -> str:
    """Poll urls until each answers 200; returns "" or a one-line reason it gave up."""
    deadline = time.monotonic() + timeout
    waiting = list(urls)
    while True:
        waiting = [url for url in waiting if not answers_200(url)]
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
        dashboard_socket = reserve_port(config.dashboard.host, config.dashboard.port, "--dashboard-port")
    except PortInUse as exc:
        return fail(str(exc))
    api = ApiServerThread(config.api)
    api.start()
    if not api.wait_listening(STARTUP_SECONDS):
        dashboard_socket.close()
        return fail(api.error or "the API server did not start", [api])
    # The dashboard needs the API's real URL (its port may have been 0), at an address it can
    # connect to: a wildcard address (0.0.0.0, ::) listens on loopback too.
    api_url = reachable(api.url)
    dashboard = DashboardServerThread(replace(config.dashboard, api_url=api_url), dashboard_socket)
    dashboard.start()
    dashboard_url = reachable(dashboard.url)
    components = [api, dashboard]
    problem = wait_until_answering([f"{api_url}/api/health", dashboard_url], components, stop)
    if problem:
        return fail(problem, components)
    if not stop.requested():
        print(f"perfmon API:       {api_url}/api/performance\n"
              f"perfmon dashboard: {dashboard_url}\nCtrl-C stops both", flush=True)
        if config.open_browser:
            open_in_browser(dashboard_url)
    return run_until_stopped(components, stop)


def serve_dashboard(config: DashboardConfig) -> int:
    """Serve only the dashboard until SIGINT or SIGTERM; returns the exit code."""
    with StopSignals() as stop:
        try:
            dashboard = DashboardServerThread(config, port_flag="--port")
        except PortInUse as exc:
            return fail(str(exc))
        dashboard.start()
        print(f"perfmon dashboard: {dashboard.url} (API: {config.api_url})\nCtrl-C stops it", flush=True)
        return run_until_stopped([dashboard], stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the API server and the dashboard until Ctrl-C; returns the process exit code."""
    config = parse_launcher_config(argv)
    configure_logging(config.log_level)
    with StopSignals() as stop:  # from the start, so Ctrl-C while starting stops cleanly too
        return launch(config, stop)
