"""HTTP helpers of the API: strict query parameters, gzip (negotiated by perfmon.core.edge), ETags, JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

from perfmon.api.edge.errors import ApiError
from perfmon.api.edge.headers import SECURITY_HEADERS, secured
from perfmon.core.edge import accepts_gzip as accepts_gzip  # the API's modules take it from here
from perfmon.sampling.snapshot import Snapshot

COMPRESS_MIN_BYTES = 1024
NO_CACHE = "no-cache"


INTEGER = re.compile(r"[0-9]{1,19}")
DECIMAL = re.compile(r"[0-9]{1,19}(\.[0-9]{1,9})?")  # ASCII digits only: no signs, exponents, "_" or "nan"


def single(query: Mapping[str, str], name: str) -> str | None:
    """The one value of a query parameter, or None; 400 naming it if it is given more than once."""
    getall = getattr(query, "getall", None)
    if getall is None:
        return query.get(name)
    values = getall(name, [])
    if len(values) > 1:
        raise ApiError(400, f"parameter '{name}' is given {len(values)} times: give it once")
    return values[0] if values else None


def query_number(
    query: Mapping[str, str], name: str, *, low: float, high: float,
    integer: bool = False, low_open: bool = False,
) -> float | int | None:
    """An optional numeric query parameter (ASCII digits) within bounds; 400 naming it otherwise."""
    raw = single(query, name)
    if raw is None:
        return None
    kind = "a whole number" if integer else "a number"
    # .15g: every digit of a bound such as 4102444800 (2100-01-01), where :g wrote 4.10244e+09
    low_text, high_text = (str(int(low)), str(int(high))) if integer else (f"{low:.15g}", f"{high:.15g}")
    lower = f"greater than {low_text}" if low_open else f"from {low_text}"
    expected = f"parameter '{name}' must be {kind} {lower} to {high_text}, got {raw[:40]!r}"
    if not (INTEGER if integer else DECIMAL).fullmatch(raw):
        raise ApiError(400, expected)
    value: float | int = int(raw) if integer else float(raw)
    if not (low < value if low_open else low <= value) or not value <= high:
        raise ApiError(400, expected)
    return value


def query_choice(query: Mapping[str, str], name: str, choices: Collection[str], default: str) -> str:
    """An optional query parameter from a fixed set; 400 listing the choices otherwise."""
    raw = single(query, name)
    raw = default if raw is None else raw
    if raw not in choices:
        allowed = "|".join(choices)
        raise ApiError(400, f"parameter '{name}' must be one of {allowed}, got {raw[:40]!r}")
    return raw


def etag_matches(request: web.Request, *tags: str) -> bool:
    """True if If-None-Match names one of ``tags`` (weak comparison, ``*`` included)."""
    raw = request.headers.get(hdrs.IF_NONE_MATCH)
    if not raw:
        return False
    if raw[0] == '"' and raw[-1] == '"' and "," not in raw:
        return raw[1:-1] in tags  # the usual poll, one strong tag: no list to parse
    candidates = request.if_none_match
    if not candidates:
        return False
    return any(c.value == "*" or c.value in tags for c in candidates)


def json_response(request: web.Request, payload: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON response, gzip-compressed when the client accepts it and it is worth it."""
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    response = web.Response(body=body, status=status, content_type="application/json",
                            headers=secured(headers))
    if len(body) >= COMPRESS_MIN_BYTES:  # the answer depends on Accept-Encoding: caches must know
        response.headers[hdrs.VARY] = "Accept-Encoding"
        if accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING, "")):
            response.enable_compression(web.ContentCoding.gzip)
            etag = response.headers.get(hdrs.ETAG)
            if etag:  # another representation, another strong validator (RFC 9110 8.8.3)
                response.headers[hdrs.ETAG] = f'{etag[:-1]}-gzip"'
    return response


@lru_cache(maxsize=8)
def snapshot_headers(etag: str, encoding: str | None) -> CIMultiDict[str]:
    """Response headers of one snapshot representation (security ones included), built once per sample."""
    headers = CIMultiDict({
        hdrs.CONTENT_TYPE: "application/json", hdrs.CACHE_CONTROL: NO_CACHE,
        hdrs.VARY: "Accept-Encoding", "ETag": f'"{etag}"', **SECURITY_HEADERS,
    })
    if encoding:
        headers[hdrs.CONTENT_ENCODING] = encoding
    return headers


def sends_gzip(request: web.Request, snapshot: Snapshot) -> bool:
    """Whether this client gets the snapshot's gzip bytes: it has some, and the client accepts them."""
    return accepts_gzip(request.headers.get(hdrs.ACCEPT_ENCODING)) and snapshot.body_gzip is not None


# The prepared header sets below are handed to web.Response as they are: aiohttp copies the
# headers it is given (a test holds it to that), so the shared sets are never changed.


def snapshot_response(request: web.Request, snapshot: Snapshot) -> web.Response:
    """The snapshot's pre-serialised bytes, gzip ones where accepted."""
    if sends_gzip(request, snapshot):
        return web.Response(body=snapshot.body_gzip, headers=snapshot_headers(snapshot.etag_gzip, "gzip"))
    return web.Response(body=snapshot.body, headers=snapshot_headers(snapshot.etag, None))


@lru_cache(maxsize=8)
def not_modified_headers(etag: str) -> CIMultiDict[str]:
    """A 304's headers: the snapshot's validators, and no Content-Type (there is no body)."""
    headers = snapshot_headers(etag, None).copy()
    del headers[hdrs.CONTENT_TYPE]
    return headers


def not_modified(etag: str) -> web.Response:
    """304 for an unchanged snapshot."""
    return web.Response(status=304, headers=not_modified_headers(etag))
