"""The dashboard's HTTP edge: bodies capped, callbacks checked, assets compressed once and cached.

Wraps the Dash app (its FastAPI server) as one ASGI app:

- every request passes the gate first (:mod:`perfmon.ui.gate`: its Host, its Origin, the
  session when there is a token), and every answer carries the security headers;
- a request body over ``MAX_BODY_BYTES`` is refused (413) before Dash reads it;
- a callback post that is not JSON naming one of the app's callbacks is a 400 with a
  JSON body naming what is wrong, not a 500 from inside Dash;
- the page's JavaScript and CSS are gzip-compressed once, kept in memory and served
  with an ETag; fingerprinted ones (Dash puts a version and a hash in their names, and
  an ``?m=`` modification time on ``/assets/``) are ``immutable`` for a year, so a
  reload transfers almost nothing;
- other answers (the page, its layout, callback results) are gzip-compressed on the fly.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dash.fingerprint import check_fingerprint
from starlette.middleware.gzip import GZipMiddleware

from perfmon.core.edge import accepts_gzip
from perfmon.ui.gate import Gate
from perfmon.ui.wire import (
    MAX_BODY_BYTES,
    Asgi,
    Message,
    Receive,
    Scope,
    Send,
    header,
    read_body,
    replay,
    send_json,
)

CALLBACK_PATH = "/_dash-update-component"
ASSET_PREFIXES = ("/_dash-component-suites/", "/assets/")
COMPRESSIBLE = re.compile(r"^(text/|application/(javascript|json|x-javascript)|image/svg)")
MIN_COMPRESS_BYTES = 1000
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # not fingerprinted: kept, but asked about again (a 304 when unchanged)


@dataclass(frozen=True)
class Asset:
    """One static file as served: its headers, its body, and the body gzip-compressed."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    gzipped: bytes | None
    etag: bytes


def takes_gzip(scope: Scope) -> bool:
    """Whether the client takes gzip (perfmon.core.edge decides: q-values, ``*``, ``gzip;q=0``)."""
    return accepts_gzip(header(scope, b"accept-encoding").decode("latin-1"))


def gzip_where_accepted(app: Asgi) -> Asgi:
    """Starlette's GZipMiddleware around ``app``, shown perfmon's verdict as the Accept-Encoding.

    It looks for "gzip" anywhere in the header, so by itself it compresses for ``gzip;q=0``.
    """
    gzipped = GZipMiddleware(app, minimum_size=MIN_COMPRESS_BYTES)

    async def negotiated(scope: Scope, receive: Receive, send: Send) -> None:
        verdict = b"gzip" if takes_gzip(scope) else b"identity"
        headers = [(name, value) for name, value in scope["headers"] if name != b"accept-encoding"]
        await gzipped({**scope, "headers": [*headers, (b"accept-encoding", verdict)]}, receive, send)

    return negotiated


def fingerprinted(scope: Scope) -> bool:
    """Whether the URL names one version of the file, so it may be cached for good."""
    path: str = scope["path"]
    if path.startswith("/assets/"):
        return re.search(rb"(^|&)m=[0-9.]+($|&)", scope.get("query_string", b"")) is not None
    return bool(check_fingerprint(path)[1])


class DashboardEdge:
    """The ASGI app the dashboard's server runs: see the module's docstring."""

    def __init__(self, app: Asgi, callbacks: Callable[[], Any], gate: Gate,
                 on_shutdown: Callable[[], Awaitable[None]] | None = None) -> None:
        self.app = app
        self.gate = gate
        self.on_shutdown = on_shutdown
        self.gzipped = gzip_where_accepted(app)
        self.callbacks = callbacks  # the app's callback map, looked up per post (it may grow)
        self.assets: dict[str, Asset] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":  # Dash's websocket callbacks are not used: nothing else is served
            await send({"type": "websocket.close", "code": 1008})
            return
        send = self.gate.secured(send)
        if not await self.gate.admit(scope, receive, send):
            return
        if scope["method"] in ("GET", "HEAD") and scope["path"].startswith(ASSET_PREFIXES):
            await self.asset(scope, receive, send)
            return
        body = await read_body(scope, receive)
        if body is None:
            await send_json(send, 413, f"request body over {MAX_BODY_BYTES} bytes")
            return
        if scope["method"] == "POST" and scope["path"] == CALLBACK_PATH:
            problem = callback_problem(body, self.callbacks())
            if problem:
                await send_json(send, 400, problem)
                return
        await self.gzipped(scope, replay(body), send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """Start at once; at shutdown, close what the app holds open (the API client's pool).

        Dash's own lifespan handler is skipped: it only adds a catch-all route serving the
        page at every path, so an unknown path stays a 404 here.
        """
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.on_shutdown is not None:
                    await self.on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def asset(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A static file from memory, compressed and cached as its name allows."""
        key = check_fingerprint(scope["path"])[0]  # one entry per file, whatever the URL's fingerprint
        asset = self.assets.get(key)
        if asset is None:
            asset = await capture(self.app, scope, receive)
            if asset is None:  # not a file Dash serves: let it answer (a 404)
                await self.app(scope, receive, send)
                return
            self.assets[key] = asset
        await serve_asset(scope, send, asset)


def callback_problem(body: bytes, callbacks: Any) -> str:
    """Why a callback post cannot be one of this page's callbacks, or "" when it can."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(payload, dict):
        return "the body is not a JSON object"
    output = payload.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "output: not a callback of this page"
    for name in ("outputs", "inputs", "state"):
        if not isinstance(payload.get(name, []), (list, dict)):
            return f"{name}: not a list"
    if not isinstance(payload.get("changedPropIds", []), list):
        return "changedPropIds: not a list"
    return ""


async def capture(app: Asgi, scope: Scope, receive: Receive) -> Asset | None:
    """Run ``app`` for a GET of the asset and keep its answer, or None if it is not a 200."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app({**scope, "method": "GET", "headers": []}, receive, keep)
    if start.get("status") != 200:
        return None
    body = b"".join(chunks)
    kept = [(k, v) for k, v in start.get("headers", []) if k.lower() in (b"content-type", b"last-modified")]
    content_type = dict(kept).get(b"content-type", b"").decode("latin-1")
    worth = COMPRESSIBLE.match(content_type) is not None and len(body) >= MIN_COMPRESS_BYTES
    gzipped = await asyncio.to_thread(gzip.compress, body, 6, mtime=0) if worth else None  # 0.2 s for plotly
    etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
    return Asset(kept, body, gzipped, etag)


async def serve_asset(scope: Scope, send: Send, asset: Asset) -> None:
    """The kept file: 304 when the client has it, gzip when it takes it, cached as its URL allows."""
    headers = [*asset.headers, (b"etag", asset.etag),
               (b"cache-control", (IMMUTABLE if fingerprinted(scope) else REVALIDATE).encode())]
    if asset.gzipped is not None:
        headers.append((b"vary", b"Accept-Encoding"))
    if asset.etag in (tag.strip() for tag in header(scope, b"if-none-match").split(b",")):
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = asset.body
    if asset.gzipped is not None and takes_gzip(scope):
        body = asset.gzipped
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
