"""HTTP to the perfmon API from the dashboard server: one aiohttp session, ETags, failures in words."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

from perfmon import __version__
from perfmon.settings.security import client_context

MIN_TIMEOUT_SECONDS = 0.05


class ApiUnavailable(Exception):
    """The API could not be reached or answered unusably; ``str()`` says why, in words."""


class ApiStarting(ApiUnavailable):
    """The API is up but has no sample yet (503 with Retry-After)."""


class ApiHttp:
    """GETs against one API base URL over one keep-alive session on the running loop."""

    def __init__(self, base_url: str, token: str | None = None, ca_file: Path | None = None,
                 check_hostname: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.netloc = urlsplit(self.base_url).netloc
        self.headers = {"User-Agent": f"perfmon-dashboard/{__version__}"}
        if token is not None:  # the API's; the browser never sees it
            self.headers["Authorization"] = f"Bearer {token}"
        # An HTTPS API is verified: against the given CAs (a private CA), else the system's (True).
        self.ssl: ssl.SSLContext | bool = (
            client_context(ca_file, check_hostname) if ca_file or not check_hostname else True)
        self.direct = 0  # requests made (for tests and benchmarks)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the session's
        self._cache: dict[str, tuple[str, dict[str, Any]]] = {}  # url -> (etag, decoded body)

    def session(self) -> aiohttp.ClientSession:
        """The session of the running loop (a new one if the loop changed, as between tests)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                headers=self.headers,
                connector=aiohttp.TCPConnector(limit=16, ttl_dns_cache=60, ssl=self.ssl))
        return self._session

    async def close(self) -> None:
        """Close the pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def url(self, path: str, params: dict[str, Any] | None) -> str:
        """The URL of ``path`` with ``params`` as its query."""
        return self.base_url + path + ("?" + urlencode(params) if params else "")

    async def get_json(self, path: str, params: dict[str, Any] | None, timeout: float,
                       conditional: bool = False, wait: float | None = None,
                       after: int | None = None) -> dict[str, Any]:
        """A JSON object from the API; with ``conditional``, revalidated by ETag (304 reuses it).

        ``wait``: a conditional read the API holds until the answer changes, for up to that
        many seconds (its ``?wait=``), when there is a cached answer to revalidate, or (``after``,
        the API's ``?after=``) until there is a sample newer than that seq.
        """
        url = self.url(path, params)
        cached = self._cache.get(url) if conditional else None
        headers = {"If-None-Match": cached[0]} if cached else {}
        held = url
        if wait and after is not None:
            held = self.url(path, {**(params or {}), "after": after, "wait": f"{wait:.3f}"})
        elif wait and cached:
            held = self.url(path, {**(params or {}), "wait": f"{wait:.3f}"})
        async with self._request(held, headers, timeout) as response:
            if response.status == 304 and cached:
                return cached[1]
            body = decode(self.netloc, response.status, response.reason, response.headers,
                          await self._read(response, timeout))
            etag = response.headers.get("ETag")
            if conditional and etag:
                self._cache[url] = (etag, body)
            return body

    async def get_text(self, path: str, params: dict[str, Any] | None, timeout: float) -> str:
        """A text document (the CSV export); an error answer is read as the API's JSON error."""
        async with self._request(self.url(path, params), {}, timeout) as response:
            raw = await self._read(response, timeout)
            if response.status != 200:
                decode(self.netloc, response.status, response.reason, response.headers, raw)
            return raw.decode("utf-8", "replace")

    async def write(self, method: str, path: str, params: dict[str, Any] | None, body: Any,
                    timeout: float) -> dict[str, Any] | None:
        """A write (``POST`` of the JSON ``body``, or ``DELETE``): the answer's JSON object, None for a
        204; an error answer is ApiUnavailable in the API's own words."""
        self.direct += 1
        limit = aiohttp.ClientTimeout(total=max(MIN_TIMEOUT_SECONDS, timeout))
        request = self.session().request(method, self.url(path, params), json=body, timeout=limit)
        async with Guarded(self, request, timeout) as response:
            raw = await self._read(response, timeout)
            if response.status == 204:
                return None
            status = 200 if response.status in (200, 201) else response.status  # decode's success is 200
            return decode(self.netloc, status, response.reason, response.headers, raw)

    def _request(self, url: str, headers: dict[str, str], timeout: float) -> Any:
        self.direct += 1
        return Guarded(self, self.session().get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=max(MIN_TIMEOUT_SECONDS, timeout))),
            timeout)

    async def _read(self, response: aiohttp.ClientResponse, timeout: float) -> bytes:
        try:
            return await response.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ApiUnavailable(failure(self.netloc, self.base_url, exc, timeout)) from None


class Guarded:
    """``async with`` around a request: connection errors and timeouts become ApiUnavailable."""

    def __init__(self, http: ApiHttp, request: Any, timeout: float) -> None:
        self.http, self.request, self.timeout = http, request, timeout

    async def __aenter__(self) -> aiohttp.ClientResponse:
        try:
            response: aiohttp.ClientResponse = await self.request.__aenter__()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ApiUnavailable(failure(self.http.netloc, self.http.base_url, exc, self.timeout)) from None
        return response

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.request.__aexit__(*exc_info)


def decode(netloc: str, status: int, reason: str | None, headers: Any, raw: bytes) -> dict[str, Any]:
    """The answer's JSON object; anything else raises ApiUnavailable saying what came back."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiUnavailable(f"{netloc} answered {status} without JSON: is it a perfmon API?") from None
    if status == 200 and isinstance(body, dict):
        return body
    if status == 200:
        raise ApiUnavailable(f"{netloc} answered JSON that is not an object: is it a perfmon API?")
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if status == 503 and "Retry-After" in headers:
        raise ApiStarting(f"the API is not ready: {message or 'starting'}")
    raise ApiUnavailable(f"the API answered {status}: {message or reason}")


def failure(netloc: str, base_url: str, exc: BaseException, timeout: float) -> str:
    """Why a request failed, in words."""
    if isinstance(exc, asyncio.TimeoutError):
        return f"no answer from {netloc} within {timeout:.1f} s"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"unknown host in {base_url}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return f"connection refused by {netloc}: is the API server running?"
        return f"cannot connect to {netloc}"
    if isinstance(exc, (aiohttp.ServerDisconnectedError, ConnectionResetError, aiohttp.ClientOSError)):
        return f"{netloc} closed the connection"
    return f"request to {netloc} failed: {exc}"
