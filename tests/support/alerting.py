"""What the alerts' tests share: a sample published and evaluated, and a webhook receiver in a thread."""

from __future__ import annotations

import asyncio
import http.server
import json
from typing import Any, ClassVar

from aiohttp import web

from perfmon.api.app import Monitor
from perfmon.api.endpoints.state import ALERTS


async def sample(monitor: Monitor, app: web.Application) -> None:
    """Publish a sample, and return once the alerts have been evaluated on it."""
    before = app[ALERTS].evaluated
    await monitor.sampler.sample_once()
    async with asyncio.timeout(5):
        while app[ALERTS].evaluated == before:
            await asyncio.sleep(0.001)


class Hook(http.server.BaseHTTPRequestHandler):
    """A webhook receiver for ``http.server``, in a thread: keeps each POST's JSON body (class-wide)."""

    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        self.got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def receiver_class() -> type[Hook]:
    """A Hook of its own, with its own list: tests never see each other's deliveries."""
    return type("OwnHook", (Hook,), {"got": []})
