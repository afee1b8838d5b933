"""Long-polls answered all at once when a sample is published, from bytes built once per sample.

One new sample wakes every parked ``?wait=`` request. Answered one woken task at a time
through aiohttp's response machinery, 1,000 waiters took 70-90 ms (a task's wake-up, the
timeout's exit, the handler, aiohttp's headers and writes, about 80 us each). Every waiter
gets the same bytes, so :class:`ParkedPolls` builds the answer (status line, headers and
body) once per sample and representation, and writes it to every parked connection in one
loop as the sample is published, before any task wakes; each woken handler then returns a
:class:`PrebuiltResponse` whose bytes are already sent, and aiohttp only does its
bookkeeping (keep-alive, the next request, the access log).

Only the common case parks this way: a GET over HTTP/1.1 that keeps its connection open.
Anything else (HTTP/1.0, ``Connection: close``, HEAD) is answered the usual way when woken, and so
is a cross-origin request where CORS is configured (its headers depend on its ``Origin``). The
prebuilt answers carry the headers of every answer (perfmon.api.edge.headers), ``Server`` included.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11

from perfmon.api.edge.cors import vary_origin
from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.responses import accepts_gzip, snapshot_headers, snapshot_response
from perfmon.api.endpoints.longpoll import wait_or_shutdown
from perfmon.sampling.hub import Hub
from perfmon.sampling.snapshot import Snapshot

KEEP = 4  # answers kept: the current sample's two representations, and the previous sample's


class PrebuiltResponse(web.StreamResponse):
    """A 200 whose bytes were written to the connection already: aiohttp writes nothing more."""

    def __init__(self, body_length: int) -> None:
        super().__init__(status=200)
        self._prebuilt_body_length = body_length

    async def prepare(self, request: web.BaseRequest) -> None:
        """Mark the answer sent and ended, as aiohttp does once it has written one."""
        self._keep_alive = True  # only requests that keep their connection are parked
        self._body_length = self._prebuilt_body_length  # for the access log
        self._eof_sent = True

    async def write_eof(self, data: bytes = b"") -> None:
        """Nothing more to write."""


@dataclass(eq=False)
class Parked:
    """One long-poll waiting for a sample after ``after_seq``; ``sent`` once it was answered."""

    request: web.Request
    after_seq: int
    gzip: bool
    sent: int | None = None  # the answer's body length


class ParkedPolls:
    """The parked long-polls of one server, answered from :meth:`publish` (a hub listener).

    ``cors``: CORS is configured, so answers say ``Vary: Origin`` and cross-origin ones never park.
    """

    def __init__(self, cors: bool = False) -> None:
        self.parked: set[Parked] = set()
        self._answers: dict[tuple[str, bool], bytes] = {}
        self.cors = cors

    def park(self, request: web.Request, after_seq: int) -> Parked | None:
        """Register a long-poll that :meth:`publish` may answer; None if it must be answered as usual."""
        if request.method != hdrs.METH_GET or request.version != HttpVersion11 or not request.keep_alive:
            return None
        if self.cors and hdrs.ORIGIN in request.headers:
            return None
        # gzip where the client takes it and the answering sample has gzip bytes (publish checks)
        entry = Parked(request, after_seq, accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")))
        self.parked.add(entry)
        return entry

    def leave(self, entry: Parked | None) -> None:
        """The long-poll is over (answered, timed out or gone)."""
        if entry is not None:
            self.parked.discard(entry)

    def publish(self, snapshot: Snapshot) -> None:
        """Answer every parked long-poll the new snapshot is news to, one write each."""
        for entry in self.parked:
            transport = entry.request.transport
            if entry.sent is not None or snapshot.seq <= entry.after_seq or transport is None \
                    or transport.is_closing():
                continue
            gzip = entry.gzip and snapshot.body_gzip is not None
            raw = self._answers.get((snapshot.etag, gzip)) or self.build(snapshot, gzip)
            transport.write(raw)
            entry.sent = len(snapshot.body_gzip if gzip and snapshot.body_gzip is not None else snapshot.body)

    def build(self, snapshot: Snapshot, gzip: bool) -> bytes:
        """Status line, headers and body of one representation, as aiohttp would write them."""
        body = snapshot.body_gzip if gzip and snapshot.body_gzip is not None else snapshot.body
        headers = snapshot_headers(snapshot.etag_gzip if gzip else snapshot.etag, "gzip" if gzip else None)
        if self.cors:
            headers = headers.copy()
            headers[hdrs.VARY] = vary_origin(headers.get(hdrs.VARY))
        lines = [f"{name}: {value}" for name, value in headers.items()]  # Server among them
        lines += [f"Content-Length: {len(body)}", f"Date: {formatdate(usegmt=True)}"]
        raw = ("HTTP/1.1 200 OK\r\n" + "\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        if len(self._answers) >= KEEP:
            self._answers.pop(next(iter(self._answers)))
        self._answers[(snapshot.etag, gzip)] = raw
        return raw


PARKED = web.AppKey("parked", ParkedPolls)


async def wait_parked(request: web.Request, hub: Hub, snapshot: Snapshot,
                      wait: float) -> web.StreamResponse | None:
    """Long-poll for a sample newer than ``snapshot``: its answer, or None when ``wait`` ends first.

    Raises the API's 503 (too many waiters, shutting down) unless the answer was sent already.
    """
    parked = request.app[PARKED]
    entry = parked.park(request, snapshot.seq)
    try:
        newer = await wait_or_shutdown(hub, snapshot.seq, wait)
    except ApiError:
        if entry is None or entry.sent is None:
            raise
        newer = None
    finally:
        parked.leave(entry)
    if entry is not None and entry.sent is not None:
        return PrebuiltResponse(entry.sent)  # publish() wrote it
    return None if newer is None else snapshot_response(request, newer)
