"""A woken long-poll's answer as one prebuilt buffer: status line, headers and body, made once per sample.

One new sample wakes every parked ``?wait=`` request at once, and they are answered one
after another on the server's one event loop. Through aiohttp's response machinery an
answer costs about 80 us (headers gathered, serialised and written, then the body), so
1,000 waiters took about 80 ms to answer. Every waiter gets the same bytes, so they are
built once per sample and representation, and each answer is a single
``transport.write``; aiohttp still runs the request's life cycle (keep-alive, the next
request, access logging) around it.

Only the common case takes this path: a GET over HTTP/1.1 that keeps its connection
open. Anything else (HTTP/1.0, ``Connection: close``, HEAD) is answered the usual way.
"""

from __future__ import annotations

from email.utils import formatdate

from aiohttp import hdrs, web
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11

from perfmon.api.http import accepts_gzip, snapshot_headers, snapshot_response
from perfmon.sampling.snapshot import Snapshot

KEEP = 4  # answers kept: the current sample's two representations, and the previous sample's

_answers: dict[tuple[str, bool], bytes] = {}


class PrebuiltResponse(web.StreamResponse):
    """A response whose whole bytes are given: ``prepare`` writes them, and nothing else is written."""

    def __init__(self, raw: bytes, body_length: int) -> None:
        super().__init__(status=200)
        self._raw = raw
        self._prebuilt_body_length = body_length

    async def prepare(self, request: web.BaseRequest) -> None:
        """Write the answer, once; aiohttp then sees an answer already sent and ended."""
        if self._eof_sent:
            return
        transport = request.transport
        if transport is not None and not transport.is_closing():
            transport.write(self._raw)
        self._keep_alive = True  # only requests that keep their connection come here
        self._body_length = self._prebuilt_body_length  # for the access log
        self._eof_sent = True

    async def write_eof(self, data: bytes = b"") -> None:
        """Nothing more to write: ``prepare`` sent the answer whole."""


def woken_response(request: web.Request, snapshot: Snapshot) -> web.StreamResponse:
    """The answer to a long-poll a new sample woke: prebuilt where the request allows."""
    if request.method != hdrs.METH_GET or request.version != HttpVersion11 or not request.keep_alive:
        return snapshot_response(request, snapshot)
    gzip = snapshot.body_gzip is not None and accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, ""))
    raw = _answers.get((snapshot.etag, gzip))
    if raw is None:
        raw = build(snapshot, gzip)
    body = snapshot.body_gzip if gzip and snapshot.body_gzip is not None else snapshot.body
    return PrebuiltResponse(raw, len(body))


def build(snapshot: Snapshot, gzip: bool) -> bytes:
    """Status line, headers and body of one representation, as aiohttp would write them."""
    body = snapshot.body_gzip if gzip and snapshot.body_gzip is not None else snapshot.body
    headers = snapshot_headers(snapshot.etag_gzip if gzip else snapshot.etag, "gzip" if gzip else None)
    lines = [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", f"Date: {formatdate(usegmt=True)}",
              f"Server: {SERVER_SOFTWARE}"]
    raw = ("HTTP/1.1 200 OK\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    if len(_answers) >= KEEP:
        _answers.pop(next(iter(_answers)))
    _answers[(snapshot.etag, gzip)] = raw
    return raw
