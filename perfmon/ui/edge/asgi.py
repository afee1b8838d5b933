"""The dashboard's HTTP edge: bodies capped, callbacks checked, assets compressed once and cached.

Wraps the Dash app (its FastAPI server) as one ASGI app:

- every request passes the gate first (:mod:`perfmon.ui.edge.gate`: its Host, its Origin, the
  session when there is a token), and every answer carries the security headers;
- a request body over ``MAX_BODY_BYTES`` is refused (413) before Dash reads it;
- a callback post that is not one of the app's callbacks as Dash's renderer sends it
  (:mod:`perfmon.ui.edge.payload`: size, nesting, the shape of every part) is a 4xx with a JSON
  body naming what is wrong and one DEBUG line, before Dash reads it;
- the poll, which every tab posts every few seconds, is answered here without Dash's dispatch
  (:mod:`perfmon.ui.edge.direct`);
- an exception that escapes anyway is a bug: a JSON 500, and its kind logged once with
  its traceback (:mod:`perfmon.ui.edge.error_log`), never a traceback per request;
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
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dash.fingerprint import check_fingerprint
from starlette.middleware.gzip import GZipMiddleware

from perfmon.core.edge import accepts_gzip
from perfmon.ui.edge import payload
from perfmon.ui.edge.direct import Direct, responder
from perfmon.ui.edge.error_log import ANSWER, ErrorLog
from perfmon.ui.edge.gate import Gate
from perfmon.ui.edge.plumbing import (
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

log = logging.getLogger(__name__)

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
                 on_shutdown: Callable[[], Awaitable[None]] | None = None,
                 direct: Mapping[str, Direct] | None = None) -> None:
        self.app = app
        self.direct = dict(direct or {})  # callbacks answered here, by output key
        self.gate = gate
        self.on_shutdown = on_shutdown
        self.gzipped = gzip_where_accepted(app)
        self.callbacks = callbacks  # the app's callback map, looked up per post (it may grow)
        self.assets: dict[str, Asset] = {}
        self.errors = ErrorLog(log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        if scope["type"] != "http":  # a WebSocket: none is served (perfmon.ui.backend), refuse it
            await send({"type": "websocket.close", "code": 1008})
            return
        send = self.gate.secured(send)
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.serve(scope, receive, watched)
        except Exception as exc:  # noqa: BLE001 - a bug (Dash's and FastAPI's errors are answered inside)
            self.errors.report(exc, f"{scope['method']} {scope['path']}")
            if not started:
                await send_json(send, 500, ANSWER)

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request, past the gate; a callback post is checked before Dash reads it."""
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
            try:
                call = payload.checked(body, self.callbacks())
            except payload.BadPayload as problem:
                await payload.refuse(send, problem.status, str(problem))
                return
            direct = self.direct.get(call["output"])
            if direct is not None:
                await self.answer_directly(direct, call, scope, send)
                return
        await self.gzipped(scope, replay(body), send)

    async def answer_directly(self, direct: Direct, call: dict[str, Any], scope: Scope, send: Send) -> None:
        """A direct callback's answer, compressed as Dash's would be; a refused value is a 400."""
        try:
            body = await direct.answer(call)
        except direct.refused as exc:
            await payload.refuse(send, 400, str(exc))
            return
        await gzip_where_accepted(responder(body))(scope, replay(b""), send)

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
