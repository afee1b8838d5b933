#!/usr/bin/env python3
"""A WebSocket push page: each sample perfmon's sampler publishes goes to every open page at once.

The physical baseline for the dashboard's freshness (``bench/bench_freshness.py``): the same
sampler as the API (``perfmon.sampling``), on the same cadence, but no polling anywhere. Each
published snapshot's JSON (the bytes the API serves) is sent on ``/ws`` as it is published;
the page at ``/`` writes it, pretty-printed as the dashboard's raw panel shows it, into
``<pre id="sample">`` and then records its age, ``Date.now() / 1000 - sample.timestamp``, in
``window.ages`` (same machine, same clock). No history, no auth: loopback only.

    python bench/ws_baseline.py [--port 8060] [--interval 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import WSCloseCode, web

from perfmon.sampling.hub import Hub
from perfmon.sampling.sampler import Sampler
from perfmon.sampling.snapshot import Snapshot

HOST = "127.0.0.1"
SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])
HUB = web.AppKey("hub", Hub)
SENDS = web.AppKey("sends", set[asyncio.Task[None]])  # sends in flight, kept from the garbage collector
Context = Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>perfmon push</title></head>
<body>
<p id="status">connecting</p>
<pre id="sample"></pre>
<script>
window.ages = [];  // seconds from each new sample's timestamp to its being in the DOM
let lastSeq = null;
const shown = document.getElementById("sample"), status = document.getElementById("status");
const socket = new WebSocket(`ws://${location.host}/ws`);
socket.onopen = () => { status.textContent = "connected"; };
socket.onclose = () => { status.textContent = "closed"; };
socket.onmessage = (event) => {
  const sample = JSON.parse(event.data);
  shown.textContent = JSON.stringify(sample, null, 2);
  if (sample.seq !== lastSeq) {
    lastSeq = sample.seq;
    window.ages.push(Date.now() / 1000 - sample.timestamp);
  }
};
</script>
</body></html>
"""


async def page(_request: web.Request) -> web.Response:
    """The push page."""
    return web.Response(text=PAGE, content_type="text/html")


async def socket(request: web.Request) -> web.WebSocketResponse:
    """One page's socket: the latest sample at once, then every new one as it is published."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    latest = request.app[HUB].latest
    if latest is not None:
        await ws.send_str(latest.body.decode())
    request.app[SOCKETS].add(ws)
    try:
        async for _message in ws:  # the page sends nothing; reading notices it going away
            pass
    finally:
        request.app[SOCKETS].discard(ws)
    return ws


def broadcaster(app: web.Application) -> Callable[[Snapshot], None]:
    """A hub listener sending each published snapshot's JSON to every open socket."""

    def send(snapshot: Snapshot) -> None:
        text = snapshot.body.decode()
        for ws in list(app[SOCKETS]):
            task = asyncio.create_task(ws.send_str(text))
            app[SENDS].add(task)
            task.add_done_callback(app[SENDS].discard)

    return send


def sampling(interval_seconds: float) -> Context:
    """The cleanup context that runs perfmon's sampler for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def context(app: web.Application) -> AsyncIterator[None]:
        hub = app[HUB] = Hub(interval_seconds)
        sampler = Sampler(hub)  # nothing kept: no history here
        hub.on_publish.append(broadcaster(app))
        task = asyncio.create_task(sampler.run(), name="ws-baseline-sampler")
        try:
            yield
        finally:
            sampler.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await asyncio.get_running_loop().run_in_executor(None, sampler.shutdown_worker)

    return context


async def close_sockets(app: web.Application) -> None:
    """Close every open socket: the server is stopping."""
    for ws in list(app[SOCKETS]):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server stopping")


def create_app(interval_seconds: float) -> web.Application:
    """The page, its socket, and the sampler feeding it."""
    app = web.Application()
    app[SOCKETS], app[SENDS] = set(), set()
    app.router.add_get("/", page)
    app.router.add_get("/ws", socket)
    app.cleanup_ctx.append(sampling(interval_seconds))
    app.on_shutdown.append(close_sockets)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve on 127.0.0.1 until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8060, help="port on 127.0.0.1 (default: 8060)")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples (default: 1)")
    args = parser.parse_args(argv)
    web.run_app(create_app(args.interval), host=HOST, port=args.port, access_log=None,
                print=lambda _: print(f"push page: http://{HOST}:{args.port}/", flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
