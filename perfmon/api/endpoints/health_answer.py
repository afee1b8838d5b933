"""The bytes of ``/api/health``, joined from parts serialised once: load balancers poll it, hard.

Its answer changes with every request (the uptime and the sample's age, in milliseconds), so it
cannot be made once per sample like ``/api/performance``'s; but most of it never changes (version,
instance, interval) or changes rarely (the store's part, the status), and ``json.dumps`` of the
whole dict plus aiohttp's header handling for ``content_type=`` cost more than the rest of the
request (py-spy under wrk: the answer ran at 0.44 of a bare aiohttp handler sending the same bytes).
Here the constant head is made once per status, the store's status is read once per sample
(its file sizes are two ``stat`` calls) and serialised once per change, the collectors' part
once per sample (the sampler publishes a new mapping with each), everything after the age once
per sample and count of long-polls, the numbers are written as ``json.dumps`` writes them (``repr``
of a float, ``str`` of an int), and the headers are a prepared set (aiohttp copies it into each
answer). The handler keeps the last whole answer for the rest of its millisecond (the precision of
its numbers): under a flood of polls most are answered with bytes made already. The bytes are
exactly ``json.dumps``' (a test compares them); an answer big enough to be worth gzip (every
collector's last run makes it so) is compressed for a client that accepts it, as ``json_response``
would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

from perfmon.api.edge.headers import SECURITY_HEADERS
from perfmon.api.edge.responses import COMPRESS_MIN_BYTES, NO_CACHE
from perfmon.core.edge import accepts_gzip
from perfmon.store.base import HistoryStore, StoreStatus

HEADERS: CIMultiDict[str] = CIMultiDict({hdrs.CONTENT_TYPE: "application/json", hdrs.CACHE_CONTROL: NO_CACHE,
                                         **SECURITY_HEADERS})
HEADERS_VARY: CIMultiDict[str] = CIMultiDict({**HEADERS, hdrs.VARY: "Accept-Encoding"})  # a big answer's


def dumps(value: Any) -> str:
    """JSON text as the API writes it everywhere: compact, no NaN."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def number(value: float | None) -> str:
    """A finite number (or null) as ``json.dumps`` writes it: ``repr`` of a float, ``str`` of an int."""
    return "null" if value is None else repr(value) if type(value) is float else str(value)


class HealthAnswers:
    """``/api/health`` answers of one server instance."""

    def __init__(self, version: str, instance_id: str, interval_seconds: float) -> None:
        self._heads = {status: (f'{{"status":{dumps(status)},"version":{dumps(version)},'
                                f'"instance_id":{dumps(instance_id)},"uptime_seconds":').encode()
                       for status in ("ok", "stale", "starting")}
        self._interval = number(interval_seconds)
        self._anonymous = {status: dumps({"status": status}).encode() for status in self._heads}
        self._store: tuple[tuple[object, ...] | None, str] = (None, "")  # the store's part, and of what
        self._collectors: tuple[Mapping[str, Any] | None, str] = (None, "{}")  # the collectors' part, of what
        # the store's status and samples held, and of what sample
        self._held: tuple[int | None, StoreStatus | None, int] = (None, None, 0)
        # the bytes after the age (seq to the end), and the (seq, samples, waiters), store and collectors
        # they were made of: the same for every request until a sample, a long-poll or the store changes
        self._tail: tuple[tuple[object, ...] | None, object, object, bytes] = (None, None, None, b"")
        # the last whole answer (status code, bytes) and what it was made of (the handler's key)
        self.made: tuple[object, int, bytes] = (None, 0, b"")

    def store_status(self, store: HistoryStore, seq: int | None) -> tuple[StoreStatus, int]:
        """The store's status and the samples it holds as of sample ``seq``: read once a sample, not per
        request (its file sizes are two ``stat`` calls, which were a third of the answer's cost)."""
        of, status, held = self._held
        if status is None or seq is None or of != seq:
            status, held = store.status(), len(store)
            self._held = (seq, status, held)
        return status, held

    def anonymous(self, request: web.Request, status: str, code: int) -> web.Response:
        """The status alone, for a request without a token where one is required."""
        return web.Response(body=self._anonymous[status], status=code, headers=HEADERS)

    def response(self, request: web.Request, code: int, body: bytes) -> web.Response:
        """The answer with these bytes; gzip for a client that accepts it, where that is worth it."""
        if len(body) < COMPRESS_MIN_BYTES:
            return web.Response(body=body, status=code, headers=HEADERS)
        # gzip is worth negotiating (as json_response does): the answer says it varies
        response = web.Response(body=body, status=code, headers=HEADERS_VARY)
        if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    def body(self, status: str, numbers: tuple[float | None, ...], store: StoreStatus,
             collectors: Mapping[str, Any]) -> bytes:
        """The bytes ``json.dumps`` would make of the whole answer."""
        uptime, age, seq, samples, waiters = numbers
        counts = (seq, samples, waiters)
        made_of, of_store, of_collectors, tail = self._tail
        if made_of != counts or of_store is not store or of_collectors is not collectors:
            tail = self.tail(counts, store, collectors)
            self._tail = (counts, store, collectors, tail)
        return b"".join((self._heads[status],
                         f'{number(uptime)},"last_sample_age_seconds":{number(age)}'.encode(), tail))

    def tail(self, counts: tuple[float | None, ...], store: StoreStatus,
             collectors: Mapping[str, Any]) -> bytes:
        """The answer's bytes from ``latest_seq`` to the end, for ``counts`` (seq, samples, waiters)."""
        key = (store.path, store.size_bytes, store.oldest_timestamp, store.status, store.error,
               store.salvaged)
        cached, text = self._store
        if cached != key:
            text = dumps(store_json(store))
            self._store = (key, text)
        if self._collectors[0] is not collectors:  # a new mapping with each sample: dumped once
            self._collectors = (collectors, dumps(collectors))
        seq, samples, waiters = counts
        return "".join((
            ',"latest_seq":', number(seq), ',"interval_seconds":', self._interval,
            ',"samples_in_memory":', number(samples), ',"long_poll_waiters":', number(waiters),
            ',"store":', text, ',"collectors":', self._collectors[1], "}",
        )).encode()


def store_json(status: StoreStatus) -> dict[str, object]:
    """Where history is kept, how big it is, since when, whether writes work, and its last salvage."""
    salvaged = None if status.salvaged is None else status.salvaged.as_json()
    return {"path": status.path, "size_bytes": status.size_bytes, "oldest_timestamp": status.oldest_timestamp,
            "status": status.status, "error": status.error, "salvaged": salvaged}


HEALTH = web.AppKey("health", HealthAnswers)
