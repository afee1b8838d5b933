"""A real API server on a loopback socket, in a background thread, fed by a test's Monitor.

Tests publish samples when they choose and stop or restart the server on the same port,
so the dashboard's side sees exactly what a real outage or restart looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.server
import threading
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from perfmon.api.app import Monitor, create_app
from perfmon.api.server import start
from tests.support.processes import free_port


class ServedApi:
    """Serves ``monitor`` (whose sampler never samples by itself) on 127.0.0.1 until stopped."""

    def __init__(self, monitor: Monitor, port: int | None = None) -> None:
        self.monitor = monitor
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="served-api", daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def start(self, monitor: Monitor | None = None) -> ServedApi:
        """Listen (again), optionally with a new Monitor: a restarted server."""
        self.monitor = monitor or self.monitor
        config = dataclasses.replace(self.monitor.config, port=self.port)
        app = create_app(config, monitor=self.monitor, sample=False)
        self._runner, _ = self._run(start(config, app))
        return self

    def stop(self) -> None:
        """Stop listening; the Monitor and its data stay, as in an outage of the server."""
        if self._runner is not None:
            self._run(self._runner.cleanup())
            self._runner = None

    def sample(self, count: int = 1) -> int:
        """Publish ``count`` samples; returns the newest seq."""
        for _ in range(count):
            snapshot = self._run(self.monitor.sampler.sample_once())
        return snapshot.seq

    def close(self) -> None:
        """Stop serving and end the thread."""
        self.stop()
        self.monitor.sampler.shutdown_worker()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A plain http.server on a loopback port (not perfmon), for the duration; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
