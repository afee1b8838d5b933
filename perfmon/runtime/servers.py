"""The two servers, each in its own thread and asyncio loop: the API on aiohttp, the dashboard on uvicorn."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import socket
import threading
from collections.abc import Coroutine
from typing import Any, ClassVar, Protocol, TypeVar

import uvicorn
from aiohttp import web

from perfmon.api.edge.connection import MALFORMED_LOG_WINDOW_SECONDS
from perfmon.api.edge.limits import LogLimiter, install_accept_error_limiter
from perfmon.api.server import PortInUse, StartupError, connections, start
from perfmon.runtime.dashboard_protocol import protocol_class
from perfmon.runtime.forwarded import ForwardedClient
from perfmon.runtime.quiet_server import QuietServer
from perfmon.settings import DashboardConfig, ServerConfig
from perfmon.ui.app import create_dashboard

T = TypeVar("T")
DRAIN_SECONDS = 3  # requests in flight get this long; within the launcher's stop budget
MAX_HEAD_BYTES = 64 * 1024  # a request line and headers beyond this are a 400
BACKLOG = 2048  # connections the kernel queues before the server accepts them (uvicorn's default)


class Component(Protocol):
    """A server running in its own thread."""

    name: str

    def is_alive(self) -> bool: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class ApiServerThread(threading.Thread):
    """The aiohttp API server on its own event loop in its own thread."""

    def __init__(self, config: ServerConfig, port_flag: str = "--api-port",
                 app: web.Application | None = None) -> None:
        super().__init__(name="API server", daemon=True)
        self.config = config
        self.port_flag = port_flag
        self._app = app  # None: the real app, made when the thread starts
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
            runner, self.url = await start(self.config, self._app, port_flag=self.port_flag)
        except StartupError as exc:
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

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the server's loop from another thread (a benchmark publishes samples so)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def stop(self) -> None:
        """Ask the server to stop; returns at once, join() waits."""
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing to stop
            self._loop.call_soon_threadsafe(self._stopping.set)


class DashboardServerThread(threading.Thread):
    """The Dash app served by uvicorn on its own event loop in its own thread.

    The socket is bound before the thread starts, so a taken port is reported at once.
    uvicorn (asyncio, epoll) holds thousands of idle or slow connections without
    threads; the h11 parser caps a request's head at 64 KiB, DashboardConnection gives it a
    deadline, and idle connections are shed near the open-files limit.
    """

    def __init__(self, config: DashboardConfig, sock: socket.socket | None = None,
                 port_flag: str = "--dashboard-port", app: Any = None) -> None:
        super().__init__(name="dashboard", daemon=True)
        self.config = config
        self._sock = sock or reserve_port(config.host, config.port, port_flag)
        host, port = self._sock.getsockname()[:2]
        scheme = "https" if config.security.tls else "http"
        self.url = f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}/"
        app = app or create_dashboard(config)  # a test may bring its own
        self._server = QuietServer(uvicorn_config(app, config))

    def run(self) -> None:
        """Serve until stop(); requests in flight get a few seconds to finish."""
        with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        # Out of descriptors, asyncio would log a traceback per failed accept: one line per 10 s.
        install_accept_error_limiter(asyncio.get_running_loop())
        await self._server.serve(sockets=[self._sock])

    def stop(self) -> None:
        """Ask the server to stop; returns at once, join() waits."""
        self._server.stop()


class MalformedRequests(logging.Filter):
    """uvicorn's WARNING per request it refuses: one line a minute for each kind, the rest counted.

    Two kinds: a request its parser rejects, and an upgrade (a WebSocket) it will not make. The
    page asks for no WebSocket (perfmon.ui.backend), so an upgrade comes from another client
    (or a tab opened before that fix): worth a line, not a line per request.
    """

    LINES: ClassVar[dict[str, str]] = {  # uvicorn's words (h11 and httptools alike), and ours
        "Invalid HTTP request received.": "the dashboard rejected a malformed HTTP request with a 400",
        "Unsupported upgrade request.": "the dashboard answered a WebSocket upgrade request as plain HTTP "
                                        "(it serves no WebSocket)",
    }
    ADVICE = "No supported WebSocket library detected"  # uvicorn's second line for the same upgrade

    def __init__(self) -> None:
        super().__init__()
        self.limiter = LogLimiter(MALFORMED_LOG_WINDOW_SECONDS)  # a window per message

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.ADVICE):  # it says to install a WebSocket library: not for us
            return False
        ours = self.LINES.get(message)
        if ours is None:
            return True
        suppressed = self.limiter.admit(message)
        if suppressed is None:
            return False
        earlier = f"{suppressed} more since the last such line; " if suppressed else ""
        window = f"further ones for {MALFORMED_LOG_WINDOW_SECONDS:g} s are counted, not logged"
        record.msg = f"{ours} ({earlier}{window})"
        record.args = ()
        return True


UVICORN_LOG = logging.getLogger("uvicorn.error")  # uvicorn's server log (its access log is off)
UVICORN_LOG.addFilter(MalformedRequests())


def uvicorn_config(app: Any, config: DashboardConfig) -> uvicorn.Config:
    """How the dashboard is served: our logging, no access log, bounded heads, idle times and shutdown.

    Forwarded headers count only from ``--trusted-proxies`` (ForwardedClient), never uvicorn's way.
    """
    if not UVICORN_LOG.isEnabledFor(logging.DEBUG):  # its start and stop lines: the launcher says those
        UVICORN_LOG.setLevel(logging.WARNING)
    proxies = config.security.trusted_proxies
    return uvicorn.Config(
        ForwardedClient(app, proxies) if proxies else app, loop="asyncio", lifespan="on",
        http=protocol_class(config.header_timeout_seconds, connections("dashboard")),
        log_config=None, access_log=False, proxy_headers=False,
        server_header=False, timeout_keep_alive=config.keepalive_timeout_seconds,  # type: ignore[arg-type]
        timeout_graceful_shutdown=DRAIN_SECONDS, h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        ssl_certfile=config.security.tls_cert, ssl_keyfile=config.security.tls_key)


def reserve_port(host: str, port: int, port_flag: str) -> socket.socket:
    """Listen on host:port now, so a taken port is reported before anything starts; raises PortInUse."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             proto=socket.IPPROTO_TCP)[0]
        sock = socket.socket(family, kind, proto)  # proto TCP: asyncio sets TCP_NODELAY on each connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
        except OSError:
            sock.close()
            raise
        return sock
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is already in use: "
                            f"stop what is using it or pass {port_flag}") from None
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


